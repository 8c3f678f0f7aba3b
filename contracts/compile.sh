#!/usr/bin/env bash
# Compiles CarChain's provider computations (contracts/src/*.sol) with the npm `solc`
# package (solcjs) at a pinned version, writing contracts/out/<Name>.bin and .abi.
# The output is deterministic for a given compiler version and source, so running this
# again regenerates the committed artifacts byte for byte (core's compute tests pin the
# SHA-256 of each .bin).
#
# Usage: contracts/compile.sh            (needs node and npm; the npm registry once)
# Env:   SOLC_CACHE_DIR  where solc is installed (default: ~/.cache/carchain-solc)
set -euo pipefail

SOLC_VERSION="0.8.30"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SOLC_CACHE_DIR:-${HOME}/.cache/carchain-solc}/${SOLC_VERSION}"

if [ ! -x "${cache}/node_modules/.bin/solcjs" ]; then
  mkdir -p "${cache}"
  (cd "${cache}" && npm install --no-save --no-audit --no-fund --silent "solc@${SOLC_VERSION}")
fi
solcjs="${cache}/node_modules/.bin/solcjs"

build="$(mktemp -d)"
trap 'rm -rf "${build}"' EXIT

cd "${here}/src"
for name in UbiScore Mileage; do
  # Relative source paths: the metadata hash appended to the bytecode names the source
  # by this path, so it must not depend on where the checkout lives.
  "${solcjs}" --bin --abi --optimize --optimize-runs 200 -o "${build}/${name}" "${name}.sol"
  # solcjs names outputs <path>_<Contract>.<ext> with path characters replaced.
  bin="$(ls "${build}/${name}"/*"_${name}.bin")"
  abi="$(ls "${build}/${name}"/*"_${name}.abi")"
  mkdir -p "${here}/out"
  cp "${bin}" "${here}/out/${name}.bin"
  cp "${abi}" "${here}/out/${name}.abi"
  # The program hash CarChain uses: SHA-256 of the bytecode bytes (not of the hex text).
  echo "${name}: program hash $(python3 -c 'import sys,hashlib;print(hashlib.sha256(bytes.fromhex(open(sys.argv[1]).read().strip())).hexdigest())' "${here}/out/${name}.bin")"
done
