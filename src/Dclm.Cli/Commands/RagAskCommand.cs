using System.CommandLine;

namespace Dclm.Cli.Commands;

/// <summary>`dclm rag ask`: a grounded answer with citations.</summary>
internal static class RagAskCommand
{
    public static Command Create()
    {
        var command = new Command("ask", "Answer a question from an index's documents, citing them");
        command.SetAction(_ => { Console.Error.WriteLine("error: not built yet"); return 1; });
        return command;
    }
}
