using System.CommandLine;
using System.Globalization;
using Dclm.Eval.Reports;
using Spectre.Console;

namespace Dclm.Cli.Commands;

/// <summary>`dclm eval compare a.json b.json`: two reports side by side, with the difference and its standard error.</summary>
internal static class EvalCompareCommand
{
    public static Command Create()
    {
        var first = new Argument<string>("first") { Description = "the first report (JSON written by dclm eval --output)" };
        var second = new Argument<string>("second") { Description = "the second report" };
        var command = new Command("compare", "Compare two evaluation reports task by task: values, difference, and whether it exceeds 1.96 standard errors") { first, second };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string pathA = parse.GetValue(first)!, pathB = parse.GetValue(second)!;
            var a = ReportWriter.Read(pathA);
            var b = ReportWriter.Read(pathB);
            var rows = ReportComparison.Compare(a, b, out var onlyIn);
            if (rows.Count == 0) throw new ArgumentException($"{pathA} and {pathB} have no task in common");
            var table = new Table().Title($"A = {Markup.Escape(a.Model ?? pathA)}, B = {Markup.Escape(b.Model ?? pathB)}");
            foreach (var column in new[] { "task", "metric", "A", "B", "B - A", "± stderr", "" }) table.AddColumn(column);
            foreach (var r in rows)
            {
                table.AddRow(Markup.Escape(r.Name), Markup.Escape(r.Metric), F(r.A), F(r.B), r.Difference.ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture),
                    double.IsNaN(r.StandardError) ? "N/A" : F(r.StandardError), r.Significant ? "*" : "");
            }
            table.Caption("* the difference exceeds 1.96 standard errors of the difference (√(seA² + seB²)); stderr N/A: the metric has none (llm-foundry scores, the aggregate)");
            if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 240;
            AnsiConsole.Write(table);
            foreach (var name in onlyIn) Console.WriteLine($"not compared: {name}");
            return 0;
        }));
        return command;
    }

    private static string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
