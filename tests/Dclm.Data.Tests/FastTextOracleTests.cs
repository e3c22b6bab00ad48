using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Dclm.Data.FastText;

namespace Dclm.Data.Tests;

/// <summary>
/// The C# fastText predictor against fastText itself: fixtures/fasttext/ holds 5,000 varied lines and the
/// predictions the WebAssembly build of fastText made for them (tests/oracles/fasttext/make-fixtures.js, run by
/// scripts/make-fasttext-fixtures.sh) with lid.176.ftz and three small models it trained (softmax with bigrams,
/// hierarchical softmax with character n-grams, one-vs-all with both).
/// </summary>
public sealed class FastTextOracleTests
{
    private static string[] Lines() => ReadGzipLines("lines.jsonl.gz").Select(l => JsonSerializer.Deserialize<string>(l)!).ToArray();

    private static List<string> ReadGzipLines(string name)
    {
        using var stream = new GZipStream(File.OpenRead(Fixtures.PathOf(Path.Combine("fasttext", name))), CompressionMode.Decompress);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return lines;
    }

    private static FastTextModel LoadGzipModel(string name)
    {
        using var stream = new GZipStream(File.OpenRead(Fixtures.PathOf(Path.Combine("fasttext", name))), CompressionMode.Decompress);
        return FastTextModel.Load(stream, name);
    }

    /// <summary>Asserts labels equal and probabilities within 1e-4 on every line; reports the first mismatches.</summary>
    private static void AssertAgrees(FastTextModel model, string[] lines, IReadOnlyList<string> expected, int k, float threshold)
    {
        Assert.Equal(lines.Length, expected.Count);
        var failures = new List<string>();
        double worst = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            var want = JsonSerializer.Deserialize<JsonElement[][]>(expected[i])!;
            var got = model.Predict(lines[i], k, threshold);
            bool same = want.Length == got.Count;
            for (int j = 0; same && j < want.Length; j++)
            {
                double difference = Math.Abs(want[j][1].GetDouble() - got[j].Probability);
                worst = Math.Max(worst, difference);
                same = want[j][0].GetString() == got[j].Name && difference <= 1e-4;
            }
            if (!same && failures.Count < 5)
                failures.Add($"line {i} ({lines[i][..Math.Min(60, lines[i].Length)]}): fastText {expected[i]}, ours {string.Join(' ', got.Select(p => $"{p.Name} {p.Probability}"))}");
            else if (!same) failures.Add("");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {lines.Length} lines differ (largest probability difference {worst:G3}):\n" + string.Join('\n', failures.Where(f => f.Length > 0)));
    }

    [Fact]
    public void Lid176AgreesWithFastTextOnFiveThousandLines()
    {
        var lines = Lines();
        Assert.Equal(5000, lines.Length);
        var model = LanguageIdentificationModel.Default;
        Assert.True(model.IsQuantized);
        Assert.Equal(176, model.Labels.Count);
        Assert.Equal(FastTextLossKind.HierarchicalSoftmax, model.Args.Loss);
        AssertAgrees(model, lines, ReadGzipLines("lid176.expected.gz"), k: 3, threshold: 0f);
    }

    [Theory]
    [InlineData("softmax-bigram", FastTextLossKind.Softmax)]
    [InlineData("hs-subword", FastTextLossKind.HierarchicalSoftmax)]
    [InlineData("ova-trigram", FastTextLossKind.OneVsAll)]
    public void ModelsTrainedByFastTextAgreeWithIt(string name, FastTextLossKind loss)
    {
        using var model = LoadGzipModel(name + ".bin.gz");
        Assert.False(model.IsQuantized);
        Assert.Equal(loss, model.Args.Loss);
        var expected = ReadGzipLines(name + ".expected.gz");
        var settings = JsonDocument.Parse(expected[0]).RootElement;
        AssertAgrees(model, Lines(), expected.Skip(1).ToList(), settings.GetProperty("k").GetInt32(), settings.GetProperty("threshold").GetSingle());
    }

    [Fact]
    public void SavingALoadedModelReproducesItsFileByteForByte()
    {
        using var source = new GZipStream(File.OpenRead(Fixtures.PathOf("fasttext/softmax-bigram.bin.gz")), CompressionMode.Decompress);
        var original = new MemoryStream();
        source.CopyTo(original);
        original.Position = 0;
        using var model = FastTextModel.Load(original, "softmax-bigram.bin");
        var saved = new MemoryStream();
        model.Save(saved);
        Assert.Equal(original.ToArray(), saved.ToArray());
    }

    [Fact]
    public void PredictProbStreamPrintsFastTextsFormatForEveryLine()
    {
        // fastText's CLI also ends a line at a literal "</s>" token; lines holding one are tested below.
        static bool HasEndToken(string line) => line.Split([' ', '\t', '\v', '\f', '\r', '\0']).Contains("</s>");
        var lines = Lines();
        var expected = ReadGzipLines("lid176.expected.gz");
        var kept = Enumerable.Range(0, lines.Length).Where(i => !HasEndToken(lines[i])).ToList();
        var input = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', kept.Select(i => lines[i])) + "\n"));
        var output = new StringWriter();
        Assert.Equal(kept.Count, FastTextPredictStream.Run(LanguageIdentificationModel.Default, input, output, 3, 0f));
        var printed = output.ToString().Split('\n');
        Assert.Equal(kept.Count + 1, printed.Length);
        for (int n = 0; n < kept.Count; n++)
        {
            var want = JsonSerializer.Deserialize<JsonElement[][]>(expected[kept[n]])!;
            var fields = printed[n].Length == 0 ? [] : printed[n].Split(' ');
            Assert.Equal(want.Length * 2, fields.Length);
            for (int j = 0; j < want.Length; j++)
            {
                Assert.Equal(want[j][0].GetString(), fields[2 * j]);
                // Six significant digits, as C++ streams print floats.
                Assert.Equal(want[j][1].GetDouble(), double.Parse(fields[2 * j + 1], System.Globalization.CultureInfo.InvariantCulture), want[j][1].GetDouble() * 1e-5 + 1e-9);
            }
        }
    }

    [Fact]
    public void PredictProbStreamSplitsLinesAsFastTextsCommandLineDoes()
    {
        var model = LanguageIdentificationModel.Default;
        var input = new MemoryStream(Encoding.UTF8.GetBytes("Bonjour tout le monde </s> Guten Tag, wie geht es\n\n  \nthe last line has no newline"));
        var output = new StringWriter();
        Assert.Equal(5, FastTextPredictStream.Run(model, input, output, 1, 0f));
        var printed = output.ToString().Split('\n');
        Assert.StartsWith("__label__fr ", printed[0]);
        Assert.StartsWith("__label__de ", printed[1]);
        // An empty line is still read as "</s>", which lid.176 knows as a word; a line of spaces likewise.
        Assert.Equal(FormatOne(model.Predict("")[0]), printed[2]);
        Assert.Equal(FormatOne(model.Predict("  ")[0]), printed[3]);
        Assert.StartsWith("__label__en ", printed[4]);
        Assert.Equal("", printed[5]);
    }

    private static string FormatOne(FastTextPrediction prediction) => $"{prediction.Name} {FastTextPredictStream.FormatProbability(prediction.Probability)}";

    [Theory]
    [InlineData(1.00001f, "1.00001")]
    [InlineData(0.697451f, "0.697451")]
    [InlineData(5.0000002e-05f, "5e-05")]
    [InlineData(1.23456789e-07f, "1.23457e-07")]
    [InlineData(0.1f, "0.1")]
    public void ProbabilitiesPrintAsCppStreamsPrintFloats(float value, string printed) =>
        Assert.Equal(printed, FastTextPredictStream.FormatProbability(value));
}
