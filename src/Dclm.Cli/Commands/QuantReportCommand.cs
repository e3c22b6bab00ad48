using System.CommandLine;
using Dclm.Benchmarks;
using Dclm.Checkpoints;
using Dclm.Tensors;

namespace Dclm.Cli.Commands;

/// <summary>`dclm quant-report`: KL divergence and top-1 agreement of quantized variants against f32 logits.</summary>
internal static class QuantReportCommand
{
    public static Command Create()
    {
        var model = ModelOptions.Model();
        var text = new Option<string>("--text") { Description = "text file to score (tokenized with the model's tokenizer)", Required = true };
        var tokens = new Option<int>("--tokens") { Description = "most tokens of the text to use", DefaultValueFactory = _ => 512 };
        var types = new Option<string>("--types") { Description = "weight types to compare, comma-separated", DefaultValueFactory = _ => "q8_0,q4_0,q4_k" };
        var command = new Command("quant-report", "Compare quantized weights and the int8 KV cache against f32: KL divergence, top-1 agreement, perplexity") { model, text, tokens, types };
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(() =>
        {
            var targets = parse.GetValue(types)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(name => GgmlTypeInfo.TryParse(name, out var t) && Array.IndexOf(GgufExporter.TargetTypes, t) >= 0 ? t
                    : throw new ArgumentException($"--types: '{name}' is not one of {string.Join(", ", GgufExporter.TargetTypes.Select(GgmlTypeInfo.Name))}"))
                .ToArray();
            string path = parse.GetValue(model)!;
            int limit = parse.GetValue(tokens);
            if (limit < 2) throw new ArgumentException("--tokens must be at least 2");
            int[] ids;
            using (var loaded = ModelLoader.Load(path, loading: WeightLoading.Mapped))
            {
                ids = loaded.RequireTokenizer().Encode(File.ReadAllText(parse.GetValue(text)!));
                limit = Math.Min(limit, loaded.Config.ContextLength);
            }
            if (ids.Length > limit) ids = ids[..limit];
            string work = Path.Combine(Path.GetTempPath(), $"dclm-quant-report-{Environment.ProcessId}");
            try
            {
                var rows = QuantizationQuality.Measure(path, ids, targets, work, new Progress<string>(m => Console.Error.WriteLine($"[quant-report] {m}")), cancellation);
                Console.WriteLine($"{ids.Length} tokens of {parse.GetValue(text)}");
                Console.WriteLine("| variant | mean KL (nats) | max KL | top-1 agreement | perplexity |");
                Console.WriteLine("|---|---|---|---|---|");
                foreach (var r in rows)
                    Console.WriteLine($"| {r.Variant} | {r.MeanKlDivergence:G3} | {r.MaxKlDivergence:G3} | {100 * r.TopOneAgreement:F1}% | {r.Perplexity:F3} |");
            }
            finally
            {
                if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
            }
            return Task.FromResult(0);
        }));
        return command;
    }
}
