using Dclm.Export.Onnx;
using Xunit.Abstractions;

namespace Dclm.Export.Tests;

/// <summary>ONNX Runtime running our f32 export computes the engine's logits, in one call and through the KV tensors.</summary>
[Collection(ExportCollection.Name)]
public sealed class OnnxRuntimeLogitsTests(ExportedModels models, ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    [Theory]
    [MemberData(nameof(ExportedModels.Architectures), MemberType = typeof(ExportedModels))]
    public void F32ExportEqualsTheEngineForAPromptAndThenSingleTokens(string name)
    {
        const int prompt = 24, steps = 8;
        var tokens = models.Tokens(name, prompt + steps);
        var expected = models.EngineLogits(name, tokens);
        int vocabulary = expected.Length / tokens.Length;

        using var decoder = new OrtDecoder(Path.Combine(models.Export(name), OnnxExporter.ModelFileName));
        var first = decoder.Run(tokens[..prompt]);
        double promptError = LogitComparison.MaxRelativeError(first, expected.AsSpan(0, prompt * vocabulary), vocabulary);
        double stepError = 0;
        for (int t = prompt; t < prompt + steps; t++)
        {
            var step = decoder.Run([tokens[t]]);
            stepError = Math.Max(stepError, LogitComparison.MaxRelativeError(step, expected.AsSpan(t * vocabulary, vocabulary), vocabulary));
        }
        output.WriteLine($"{name}: prompt of {prompt} max relative error {promptError:E2}, then {steps} single tokens {stepError:E2}");
        Assert.True(promptError <= Tolerance, $"prompt logits differ by {promptError:E2} relative");
        Assert.True(stepError <= Tolerance, $"single-token logits through past/present differ by {stepError:E2} relative");
    }

    [Fact]
    public void LeftPaddedBatchGivesEachSequenceItsOwnLogits()
    {
        // Two sequences in one batch, the shorter left-padded as onnxruntime-genai pads: the mask hides the padding
        // and positions restart at the first real token, so each row equals that sequence run alone.
        const string name = "llama";
        var longer = models.Tokens(name, 14);
        var shorter = longer[..10].Select(t => (t * 7 + 3) % 32000).ToArray();
        string path = Path.Combine(models.Export(name), OnnxExporter.ModelFileName);
        int vocabulary = 32000;

        using var batch = new OrtDecoder(path, batch: 2);
        int[] ids = [0, 0, 0, 0, .. shorter, .. longer];
        long[] mask = [0, 0, 0, 0, .. Enumerable.Repeat(1L, 10), .. Enumerable.Repeat(1L, 14)];
        var both = batch.Run(ids, mask);
        var nextBoth = batch.Run([shorter[0], longer[0]]);

        var alone = models.EngineLogits(name, [.. shorter, shorter[0]]);
        var alsoAlone = models.EngineLogits(name, [.. longer, longer[0]]);
        double shorterError = LogitComparison.MaxRelativeError(both.AsSpan(4 * vocabulary, 10 * vocabulary), alone.AsSpan(0, 10 * vocabulary), vocabulary);
        double longerError = LogitComparison.MaxRelativeError(both.AsSpan(14 * vocabulary, 14 * vocabulary), alsoAlone.AsSpan(0, 14 * vocabulary), vocabulary);
        double stepError = Math.Max(
            LogitComparison.MaxRelativeError(nextBoth.AsSpan(0, vocabulary), alone.AsSpan(10 * vocabulary, vocabulary), vocabulary),
            LogitComparison.MaxRelativeError(nextBoth.AsSpan(vocabulary, vocabulary), alsoAlone.AsSpan(14 * vocabulary, vocabulary), vocabulary));
        output.WriteLine($"padded {shorterError:E2}, full {longerError:E2}, next step {stepError:E2}");
        Assert.True(Math.Max(shorterError, Math.Max(longerError, stepError)) <= Tolerance);
    }

    [Fact]
    public void ExternalDataHoldsTheSameWeights()
    {
        string inline = models.Export("qwen3");
        string external = models.Export("qwen3", new OnnxExportOptions { ExternalData = true });
        Assert.False(File.Exists(Path.Combine(inline, "model.onnx.data")));
        var data = new FileInfo(Path.Combine(external, "model.onnx.data"));
        Assert.True(data.Exists && data.Length > new FileInfo(Path.Combine(external, "model.onnx")).Length * 100);

        var tokens = models.Tokens("qwen3", 12);
        using var a = new OrtDecoder(Path.Combine(inline, OnnxExporter.ModelFileName));
        using var b = new OrtDecoder(Path.Combine(external, OnnxExporter.ModelFileName));
        Assert.Equal(a.Run(tokens), b.Run(tokens));
    }
}
