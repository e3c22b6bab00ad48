using System.CommandLine;
using Dclm.Data.FastText;

namespace Dclm.Cli.Commands;

/// <summary>`dclm data langid`: fastText language identification of standard input, line by line.</summary>
internal static class DataLangidCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "fastText model (.bin or .ftz); default: the embedded lid.176.ftz" };
        var k = new Option<int>("--k") { Description = "Labels per line (-1: all)", DefaultValueFactory = _ => 1 };
        var threshold = new Option<float>("--threshold") { Description = "Leave out labels below this probability", DefaultValueFactory = _ => 0f };
        var command = new Command("langid", "Predict the language of each line on standard input (fastText predict-prob output: __label__en 0.697451)") { model, k, threshold };
        command.SetAction((parse, cancellation) => Task.FromResult(DataCommand.Guard(() =>
        {
            int labels = parse.GetValue(k);
            if (labels == 0 || labels < -1) throw new ArgumentException("--k must be at least 1, or -1 for every label");
            using var loaded = parse.GetValue(model) is { } path ? FastTextModel.Load(path) : null;
            var fastText = loaded ?? LanguageIdentificationModel.Default;
            if (fastText.Args.Model != FastTextModelKind.Supervised) throw new ArgumentException($"{parse.GetValue(model)}: not a supervised fastText model; it cannot predict labels");
            using var input = Console.OpenStandardInput();
            using var output = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 1 << 16);
            FastTextPredictStream.Run(fastText, input, output, labels, parse.GetValue(threshold), cancellation);
        })));
        return command;
    }
}
