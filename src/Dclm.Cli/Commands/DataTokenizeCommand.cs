using System.CommandLine;

namespace Dclm.Cli.Commands;

/// <summary>`dclm data tokenize`: curated documents to shuffled 2049-token training windows.</summary>
internal static class DataTokenizeCommand
{
    public static Command Create()
    {
        var command = new Command("tokenize", "Tokenize curated documents into shuffled token windows (pending)");
        command.SetAction(parse => DataCommand.Guard(() => throw new InvalidOperationException("tokenize is not available yet")));
        return command;
    }
}
