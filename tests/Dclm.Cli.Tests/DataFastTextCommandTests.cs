using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using Dclm.Data.Quality;
using Dclm.TestSupport;

namespace Dclm.Cli.Tests;

/// <summary>
/// `dclm data langid` and `dclm data train-classifier` as users run them, checked by fastText itself (its WebAssembly
/// build under Node): the printed predictions are fastText's, and the model train-classifier writes is one fastText
/// loads and predicts with the same probabilities.
/// </summary>
public sealed class DataFastTextCommandTests
{
    /// <summary>Every 10th of the 5,000 varied oracle lines (scripts, emoji, odd whitespace, control characters) that is one line of text.</summary>
    private static List<string> VariedLines()
    {
        using var stream = new GZipStream(File.OpenRead(DclmProcess.Fixture("data", "lines.jsonl.gz")), CompressionMode.Decompress);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        for (int n = 0; reader.ReadLine() is { } json; n++)
        {
            string line = JsonSerializer.Deserialize<string>(json)!;
            // fastText's CLI ends a line at "\n" and at a literal "</s>" token; the binding predicts the whole string.
            if (n % 10 == 0 && !line.Contains('\n') && !line.Split([' ', '\t', '\v', '\f', '\r', '\0']).Contains("</s>")) lines.Add(line);
        }
        return lines;
    }

    /// <summary>Runs `dclm data langid ARGS` over <paramref name="lines"/> and checks each printed line against fastText's predict.</summary>
    private static void AssertLangidPrintsFastTextsPredictions(string modelForFastText, List<string> lines, int k, params string[] arguments)
    {
        var result = DclmProcess.RunWithInput(string.Join('\n', lines) + "\n", ["data", "langid", "--k", k.ToString(CultureInfo.InvariantCulture), .. arguments]);
        Assert.True(result.ExitCode == 0, result.Error);
        var printed = result.Output.Split('\n');
        Assert.Equal(lines.Count + 1, printed.Length);
        Assert.Equal("", printed[^1]);
        var expected = FastTextOracle.Predict(modelForFastText, lines, k);
        Assert.Equal(lines.Count, expected.Count);
        double worst = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            var fields = printed[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(fields.Length == 2 * expected[i].Count, $"line {i}: fastText {expected[i].Count} labels, dclm printed \"{printed[i]}\"");
            for (int j = 0; j < expected[i].Count; j++)
            {
                Assert.Equal(expected[i][j].Label, fields[2 * j]);
                worst = Math.Max(worst, Math.Abs(expected[i][j].Probability - double.Parse(fields[2 * j + 1], CultureInfo.InvariantCulture)));
            }
        }
        Assert.True(worst <= 1e-4, $"printed probabilities differ from fastText's by up to {worst:G3}");
    }

    [Fact]
    public void LangidPrintsFastTextsLid176Predictions()
    {
        var lines = VariedLines();
        Assert.True(lines.Count >= 450, $"{lines.Count} lines");
        AssertLangidPrintsFastTextsPredictions(FastTextOracle.Lid176Path(), lines, k: 2);
    }

    [Fact]
    public void TrainClassifierWritesAModelFastTextLoadsAndPredictsTheSame()
    {
        const int trainPerClass = 150;
        var directory = Path.Combine(Path.GetTempPath(), "dclm-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string ham = DclmProcess.Fixture("data", "mail-ham.jsonl.zst"), spam = DclmProcess.Fixture("data", "mail-spam.jsonl.zst");
            string model = Path.Combine(directory, "quality.bin");
            var trained = DclmProcess.Run("data", "train-classifier", "--positive", ham, "--negative", spam, "--output", model,
                "--limit", trainPerClass.ToString(CultureInfo.InvariantCulture), "--held-out", "0", "--dim", "16", "--buckets", "65536", "--epochs", "10", "--learning-rate", "0.5");
            Assert.True(trained.ExitCode == 0, trained.Error);
            // Held out: the mails after the first 150 of each class, one line each as curate scores them.
            var heldOutHam = ClassifierTraining.ReadTexts([ham]).Skip(trainPerClass).Select(QualityScorer.Normalize).ToList();
            var heldOutSpam = ClassifierTraining.ReadTexts([spam]).Skip(trainPerClass).Select(QualityScorer.Normalize).ToList();
            Assert.True(heldOutHam.Count >= 40 && heldOutSpam.Count >= 40);
            var heldOut = heldOutHam.Concat(heldOutSpam).ToList();
            AssertLangidPrintsFastTextsPredictions(model, heldOut, k: 2, "--model", model);
            // And it learned: fastText's own predictions on the held-out mails are well above chance (half); 78% when written.
            var predictions = FastTextOracle.Predict(model, heldOut, k: 1);
            int right = predictions.Take(heldOutHam.Count).Count(p => p[0].Label == ClassifierTraining.PositiveLabel)
                        + predictions.Skip(heldOutHam.Count).Count(p => p[0].Label != ClassifierTraining.PositiveLabel);
            Assert.True(right >= 0.7 * heldOut.Count, $"fastText classifies {right} of {heldOut.Count} held-out mails right with our model");
        }
        finally { Directory.Delete(directory, recursive: true); }
    }
}
