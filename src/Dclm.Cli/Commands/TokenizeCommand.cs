using System.CommandLine;
using Dclm.Checkpoints;

namespace Dclm.Cli.Commands;

/// <summary>`dclm tokenize --model P --text TEXT`: the ids, space-separated, no BOS or EOS, on the last line.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = ModelOptions.Model();
        var text = new Option<string>("--text") { Description = "text to tokenize", Required = true };
        var command = new Command("tokenize", "Print the token ids of a text (no BOS or EOS added)") { model, text };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var loaded = ModelLoader.Load(parse.GetValue(model)!, loading: WeightLoading.Mapped);
            var tokenizer = loaded.RequireTokenizer();
            foreach (string warning in tokenizer.Vocabulary.Warnings) Console.Error.WriteLine($"warning: {warning}");
            var ids = tokenizer.Encode(parse.GetValue(text)!);
            Console.WriteLine(string.Join(' ', ids));
            return 0;
        }));
        return command;
    }
}
