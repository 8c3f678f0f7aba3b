#!/usr/bin/env bash
# Builds CarChainFFI.xcframework (static libcarchain_ffi.a + UniFFI header and module map)
# for aarch64-apple-ios, the simulators (aarch64-apple-ios-sim + x86_64-apple-ios) and
# macOS (aarch64 + x86_64), and copies the generated CarChain.swift into
# Sources/CarChain, so `swift build` / Xcode can use this package.
# Needs a Mac with Xcode (xcodebuild, lipo) and the Rust targets; it cannot run on Linux
# (there, scripts/test-swift tests the same Swift against the host library).
set -euo pipefail
cd "$(dirname "$0")/.."

[[ $(uname -s) == Darwin ]] || { echo "build-xcframework: needs macOS with Xcode" >&2; exit 2; }
for tool in xcodebuild lipo cargo rustup; do
  command -v "$tool" >/dev/null || { echo "build-xcframework: '$tool' is missing" >&2; exit 2; }
done

profile=release-android   # size-tuned, keeps unwinding (see the workspace Cargo.toml)
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
  cargo build --locked -p carchain-ffi --lib --profile "$profile" --target "$target"
done
lib() { echo "target/$1/$profile/libcarchain_ffi.a"; }

out=target/xcframework
rm -rf "$out" ios/CarChainFFI.xcframework
mkdir -p "$out/headers" "$out/sim" "$out/macos"
cargo run --locked -p carchain-ffi --bin uniffi-bindgen -- generate \
  --library "$(lib aarch64-apple-darwin)" --language swift --out-dir "$out/swift"
cp "$out/swift/CarChainFFI.h" "$out/headers/"
cp "$out/swift/CarChainFFI.modulemap" "$out/headers/module.modulemap"
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$out/sim/libcarchain_ffi.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$out/macos/libcarchain_ffi.a"
xcodebuild -create-xcframework \
  -library "$(lib aarch64-apple-ios)" -headers "$out/headers" \
  -library "$out/sim/libcarchain_ffi.a" -headers "$out/headers" \
  -library "$out/macos/libcarchain_ffi.a" -headers "$out/headers" \
  -output ios/CarChainFFI.xcframework
mkdir -p ios/Sources/CarChain
cp "$out/swift/CarChain.swift" ios/Sources/CarChain/
echo "build-xcframework: ios/CarChainFFI.xcframework and ios/Sources/CarChain/CarChain.swift ready"
