using System.CommandLine;
using Dclm.Cli;
using Dclm.Cli.Commands;

Terminal.UsePlainStandardStreams();
if (Dclm.Tensors.Compute.MatMul.LevelLimitError is { } levelError)
{
    Console.Error.WriteLine($"error: {levelError}");
    return 1;
}
using var interrupts = Terminal.Interrupts(out var interrupted);
var root = new RootCommand("dclm: run, train, curate, evaluate and serve DCLM-architecture language models");
foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
// Ctrl+C is ours (Terminal.Interrupts): System.CommandLine's handler would initialize the console and end an action
// that is still saving its work after two seconds.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, interrupted);
