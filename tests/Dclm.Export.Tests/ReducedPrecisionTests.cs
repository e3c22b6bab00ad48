using Dclm.Export.Onnx;
using Xunit.Abstractions;

namespace Dclm.Export.Tests;

/// <summary>
/// f16 and int4 exports against the f32 export on a text, all three run by ONNX Runtime: the next-token choice
/// agrees at ≥ 99% (f16) and ≥ 90% (int4) of positions; the mean KL divergence to f32 is reported.
/// </summary>
[Collection(ExportCollection.Name)]
public sealed class ReducedPrecisionTests(ExportedModels models, ITestOutputHelper output)
{
    private const int TextTokens = 160;

    public static readonly TheoryData<string, string, int, double> Cases = new()
    {
        { "llama", "f16", 32, 0.99 },
        { "qwen3", "f16", 32, 0.99 },
        { "openlm", "f16", 32, 0.99 },
        { "llama", "int4", 32, 0.90 },
        { "qwen3", "int4", 32, 0.90 },
        { "openlm", "int4", 32, 0.90 },
        // 704-wide feed-forward rows are 5.5 blocks of 128: the last block is padded.
        { "llama", "int4", 128, 0.90 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void AgreesWithF32OnAText(string name, string type, int blockSize, double required)
    {
        var options = new OnnxExportOptions { Type = type == "f16" ? OnnxWeightType.F16 : OnnxWeightType.Int4, BlockSize = blockSize };
        var tokens = models.Tokens(name, TextTokens);
        var reference = Run(models.Export(name), tokens);
        var reduced = Run(models.Export(name, options), tokens);
        int vocabulary = reference.Length / tokens.Length;

        double agreement = LogitComparison.TopOneAgreement(reduced, reference, vocabulary);
        double divergence = LogitComparison.MeanKullbackLeibler(reduced, reference, vocabulary);
        output.WriteLine($"{name} {type} (block {blockSize}): top-1 agreement with f32 {agreement:P1}, mean KL {divergence:E2} nats over {tokens.Length} positions");
        Assert.True(agreement >= required, $"top-1 agreement {agreement:P1} is under {required:P0}");
        Assert.True(divergence >= 0 && double.IsFinite(divergence));
    }

    private static float[] Run(string directory, int[] tokens)
    {
        using var decoder = new OrtDecoder(Path.Combine(directory, OnnxExporter.ModelFileName));
        return decoder.Run(tokens);
    }
}
