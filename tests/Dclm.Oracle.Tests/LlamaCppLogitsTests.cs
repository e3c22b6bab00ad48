using Dclm.Checkpoints;
using Dclm.Tensors;
using Xunit.Abstractions;

namespace Dclm.Oracle.Tests;

/// <summary>
/// Our Llama forward pass against llama.cpp's on the same random-weight model with the real llama-spm
/// vocabulary: F32 and Q8_0 GGUF files, the same weights as a Hugging Face directory (half-split RoPE),
/// and our own GGUF export of that directory.
/// </summary>
[Collection(OracleCollection.Name)]
public sealed class LlamaCppLogitsTests(OracleModels models, ITestOutputHelper output)
{
    private int Vocabulary => models.Model.Shape.VocabularySize;

    [Fact]
    public void F32GgufLogitsMatchLlamaCppAtEveryPosition()
    {
        float[] expected = Logits.LlamaCpp(models.F32Gguf, models.Prompt);
        float[] ours = Logits.Ours(models.F32Gguf, models.Prompt);

        double error = Logits.RelativeError(ours, expected);
        output.WriteLine($"f32 GGUF, {models.Prompt.Length} positions: max|ours − llama.cpp| / max|llama.cpp| = {error:E2}");
        // The issue asks for 1e-3; both sides compute in f32, so only summation order separates them.
        Assert.True(error <= 1e-4, $"relative error {error:E2} exceeds 1e-4");
        Assert.Equal(1.0, Logits.TopOneAgreement(ours, expected, Vocabulary));
    }

    [Fact]
    public void Q8_0GgufAgreesWithLlamaCppOnTheTopToken()
    {
        float[] expected = Logits.LlamaCpp(models.Q8Gguf, models.Prompt);
        float[] ours = Logits.Ours(models.Q8Gguf, models.Prompt);

        double agreement = Logits.TopOneAgreement(ours, expected, Vocabulary);
        double error = Logits.RelativeError(ours, expected);
        output.WriteLine($"q8_0 GGUF: top-1 agreement {agreement:P2} over {models.Prompt.Length} positions, relative error {error:E2}");
        Assert.True(agreement >= 0.99, $"top-1 agreement {agreement:P2} is below 99%");
    }

    [Fact]
    public void HuggingFaceDirectoryMatchesTheGgufAndLlamaCpp()
    {
        float[] llamaCpp = Logits.LlamaCpp(models.F32Gguf, models.Prompt);
        float[] gguf = Logits.Ours(models.F32Gguf, models.Prompt);
        float[] huggingFace = Logits.Ours(models.HuggingFaceDirectory, models.Prompt);

        double versusGguf = Logits.RelativeError(huggingFace, gguf);
        double versusLlamaCpp = Logits.RelativeError(huggingFace, llamaCpp);
        output.WriteLine($"Hugging Face dir (half-split RoPE) vs our GGUF (adjacent pairs): {versusGguf:E2}; vs llama.cpp: {versusLlamaCpp:E2}");
        Assert.True(versusGguf <= 1e-4, $"Hugging Face vs GGUF relative error {versusGguf:E2} exceeds 1e-4");
        Assert.True(versusLlamaCpp <= 1e-4, $"Hugging Face vs llama.cpp relative error {versusLlamaCpp:E2} exceeds 1e-4");
    }

    [Fact]
    public void WithoutTheRowPermutationLlamaCppDisagrees()
    {
        // The control that shows the RoPE tests can fail: the same weights written to GGUF with Q/K rows
        // left in Hugging Face order make llama.cpp rotate the wrong pairs.
        string unpermuted = models.PathOf("random-llama-unpermuted.gguf");
        LlamaFiles.WriteGguf(models.Model, unpermuted, GgmlType.F32, permuteQueryKeyRows: false);
        float[] wrong = Logits.LlamaCpp(unpermuted, models.Prompt);
        float[] huggingFace = Logits.Ours(models.HuggingFaceDirectory, models.Prompt);

        double error = Logits.RelativeError(huggingFace, wrong);
        output.WriteLine($"Hugging Face dir vs llama.cpp on unpermuted rows: {error:E2}");
        Assert.True(error > 1e-2, $"relative error {error:E2}: RoPE pairing made no visible difference, so the RoPE checks prove nothing");
    }

    [Fact]
    public void ExportedGgufLoadsInLlamaCppAndAgrees()
    {
        string exported = models.PathOf("exported-from-hf-f32.gguf");
        using (var huggingFace = ModelLoader.Load(models.HuggingFaceDirectory))
            GgufExporter.Export(huggingFace, exported, GgmlType.F32, LlamaFiles.AddTokenizer);

        float[] reference = Logits.LlamaCpp(models.F32Gguf, models.Prompt);
        float[] llamaCpp = Logits.LlamaCpp(exported, models.Prompt);
        float[] ours = Logits.Ours(exported, models.Prompt);

        double exportVersusReference = Logits.RelativeError(llamaCpp, reference);
        double oursVersusLlamaCpp = Logits.RelativeError(ours, llamaCpp);
        output.WriteLine($"llama.cpp on our export vs on the reference GGUF: {exportVersusReference:E2}; ours vs llama.cpp on the export: {oursVersusLlamaCpp:E2}");
        // The export holds the same f32 values in the same order, so llama.cpp must compute the same numbers.
        Assert.True(exportVersusReference <= 1e-6, $"llama.cpp on the export differs from the reference file by {exportVersusReference:E2}");
        Assert.True(oursVersusLlamaCpp <= 1e-4, $"ours vs llama.cpp on the export: {oursVersusLlamaCpp:E2}");
    }
}
