using System.CommandLine;
using Dclm.Cli.Commands;

var root = new RootCommand("dclm: run, train, curate, evaluate and serve DCLM-architecture language models");
foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
