//! Tests of `args`.

use super::*;
use clap::CommandFactory;

/// Parses `carchain` followed by the space-separated arguments of `line`.
fn parse(line: &str) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("carchain").chain(line.split(' ')))
}

#[test]
fn the_command_line_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn globals_and_a_command_parse() {
    let cli = parse(concat!(
        "--wallet /tmp/w.db --node http://a --node http://b --json ",
        "range --vid V --from 2024-05-06 --to 2024-05-07 --format trip-gps",
    ))
    .unwrap();
    assert_eq!(cli.nodes, ["http://a", "http://b"]);
    assert!(cli.json);
    match cli.command {
        Command::Range(args) => {
            assert_eq!(args.records.period.vid, "V");
            assert_eq!(args.start, "{}");
            assert_eq!(args.records.format.format, "trip-gps");
            assert_eq!((args.page.offset, args.page.limit), (0, None));
        }
        other => panic!("parsed {other:?}"),
    }
}

#[test]
fn unknown_flags_and_missing_arguments_are_usage_errors() {
    let err = Cli::try_parse_from(["carchain", "wallet", "new", "--bogus"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let err = Cli::try_parse_from(["carchain", "get", "--vid", "V"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let err = Cli::try_parse_from(["carchain", "wallet", "new", "--words", "13"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn networks_are_named_in_any_case_as_the_core_reads_them() {
    for name in ["regtest", "Regtest", "REGTEST", "mainnet", "TestNet"] {
        let cli = Cli::try_parse_from(["carchain", "--network", name, "node", "status"])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let core: carchain_core::keys::Network = name.parse().unwrap();
        assert_eq!(
            carchain_core::keys::Network::from(cli.network),
            core,
            "{name}"
        );
    }
    let err =
        Cli::try_parse_from(["carchain", "--network", "signet", "node", "status"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn range_pages_and_values_from_files_parse() {
    let cli = parse(
        "range --vid V --from 2024-05-06 --to 2024-05-06 --format carvio --offset 2 --limit 10",
    )
    .unwrap();
    let Command::Range(args) = cli.command else {
        panic!("not a range")
    };
    assert_eq!((args.page.offset, args.page.limit), (2, Some(10)));
    let cli =
        parse("put --car c.db --vid V --format carvio --key {} --date 2024-05-06 --value-file -")
            .unwrap();
    let Command::Put(args) = cli.command else {
        panic!("not a put")
    };
    assert_eq!(args.record.value.value_file, Some(PathBuf::from("-")));
    assert_eq!(args.record.value.value, None);
}

#[test]
fn restore_takes_no_words_on_the_command_line() {
    let err = Cli::try_parse_from(["carchain", "wallet", "restore", "abandon"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}
