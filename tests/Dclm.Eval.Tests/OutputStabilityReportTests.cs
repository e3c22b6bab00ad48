using Dclm.Checkpoints;
using Dclm.Eval.Reports;
using Dclm.Eval.Tasks;
using Dclm.TestSupport;

namespace Dclm.Eval.Tests;

/// <summary>
/// Generation tasks report output stability: a degenerate model that says " the" forever (logits known in closed form)
/// gives the repetition, log-probability and entropy its definition predicts, in the report's JSON and Markdown.
/// </summary>
public sealed class OutputStabilityReportTests : IDisposable
{
    private const float Logit = 12f;
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-eval-stability-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void ARepeatingModelsCompletionsReportTheirRepetitionLogprobAndEntropy()
    {
        string vocabulary = TinyNeoXModel.Fixture("tokenizers", "gpt-neox-20b.vocab.gguf");
        var tokenizer = Dclm.Tokenizers.Tokenizer.Load(vocabulary);
        int token = tokenizer.Encode(" the")[0];
        using var loaded = ModelLoader.Load(TinyNeoXModels.WriteRepeating(_directory, vocabulary, token, Logit));
        string path = Path.Combine(_directory, "qa.jsonl");
        File.WriteAllLines(path,
        [
            System.Text.Json.JsonSerializer.Serialize(new { context = "Say something.", answer = "one two three four five six seven eight nine ten", aliases = Array.Empty<string>() }),
            System.Text.Json.JsonSerializer.Serialize(new { context = "Say more.", answer = "a b", aliases = Array.Empty<string>() }),
        ]);
        var result = new Evaluator(loaded.Model, loaded.RequireTokenizer()).Run(new TaskSpec { Label = "qa", DatasetPath = path });
        var stability = result.Stability!;
        Assert.Equal(2, stability.Outputs);
        Assert.Equal(2, stability.Truncated);
        Assert.Equal(0, stability.Empty);
        int n = result.ItemResults[0].Output!.Split(" the").Length - 1;
        Assert.True(n >= 8, result.ItemResults[0].Output);
        Assert.Equal(result.ItemResults[0].Output, string.Concat(Enumerable.Repeat(" the", n)));
        // Each output: n equal tokens, n − 3 four-grams, one distinct; the mean over the two outputs.
        Assert.Equal((1 - 1.0 / (n - 3) + 1 - 1.0 / (n - 3)) / 2, stability.RepetitionRate, 12);

        var logits = TinyNeoXModels.RepeatingLogits(token, Logit, loaded.Config.NormEps);
        double c = logits[token], z = Math.Exp(c) + (logits.Length - 1);
        Assert.Equal(c - Math.Log(z), stability.MeanLogprob, 3);
        Assert.Equal(Math.Log(z) - c * Math.Exp(c) / z, stability.MeanEntropy, 3);

        var report = new EvalReport { Model = "repeating", Tasks = [result] };
        Assert.Contains("Output stability", ReportWriter.ToMarkdown(report));
        Assert.Contains("\"repetition_rate\"", ReportWriter.ToJson(report));
    }
}
