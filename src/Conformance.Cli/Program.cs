return Conformance.Cli.Entry.Main(args);
