using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.TestSupport;
using Dclm.Tensors;
using Xunit.Abstractions;

namespace Dclm.Oracle.Tests;

/// <summary>
/// Our Llama forward pass against llama.cpp's on random-weight models with the real llama-spm vocabulary:
/// F32 and Q8_0 GGUF files, several sequences batched in one KV cache, the same weights as a Hugging Face
/// directory (half-split RoPE), and our own GGUF export of that directory.
/// </summary>
[Collection(OracleCollection.Name)]
public sealed class LlamaCppLogitsTests(OracleModels models, ITestOutputHelper output)
{
    private const int Vocabulary = 32000;

    // The issue asks for 1e-3; both sides compute in f32, so only summation order separates them (~3e-7 measured).
    private const double F32Tolerance = 1e-4;

    [Fact]
    public void F32GgufLogitsMatchLlamaCppAtEveryPosition()
    {
        float[] expected = Logits.LlamaCpp(models.FlatF32Gguf, models.Prompt);
        float[] ours = Logits.Ours(models.FlatF32Gguf, models.Prompt);

        double error = Logits.RelativeError(ours, expected);
        output.WriteLine($"f32 GGUF, {models.Prompt.Length} positions: max|ours − llama.cpp| / max|llama.cpp| = {error:E2}");
        Assert.True(error <= F32Tolerance, $"relative error {error:E2} exceeds {F32Tolerance:E0}");
        Assert.Equal(models.Prompt.Length, Logits.TopOneMatches(ours, expected, Vocabulary));
    }

    [Fact]
    public void Qwen2GgufWithAttentionBiasesMatchesLlamaCpp()
    {
        // The same random Llama plus biases on Q, K and V, as architecture qwen2 (NeoX RoPE, rows as trained).
        var qwen = RandomLlama.Create(new LlamaShape(), seed: 20240601, attentionBias: true);
        var (path, _, expected) = AgreesWithLlamaCppInEveryForm(qwen, "qwen2");
        // The biases matter: without them (the plain Llama file of the same weights) llama.cpp answers otherwise.
        double withoutBiases = Logits.RelativeError(Logits.LlamaCpp(models.FlatF32Gguf, models.Prompt), expected);
        output.WriteLine($"the same weights without biases differ by {withoutBiases:E2}");
        Assert.True(withoutBiases > 100 * F32Tolerance, $"biases changed the logits by only {withoutBiases:E2}");
        using var loaded = ModelLoader.Load(path);
        Assert.Equal((Dclm.Models.Architecture.Qwen2, true), (loaded.Config.Architecture, loaded.Config.AttentionBias));
        Assert.Equal(Dclm.Tensors.Ops.RopeStyle.HalfSplit, loaded.Config.RopeStyle);
    }

    [Fact]
    public void Qwen3GgufWithPerHeadNormsAndItsOwnHeadWidthMatchesLlamaCpp()
    {
        // Qwen3's shape: heads of width 48 (8 × 48 = 384 query width over a residual of 256), per-head RMS gains on Q and K.
        var qwen = RandomLlama.Create(new LlamaShape(HeadWidth: 48), seed: 20240603, headNorms: true);
        var (path, directory, _) = AgreesWithLlamaCppInEveryForm(qwen, "qwen3");
        using var fromHuggingFace = ModelLoader.Load(directory);
        Assert.Equal((48, 384, Dclm.Models.QueryKeyNorm.PerHead), (fromHuggingFace.Config.HeadDim, fromHuggingFace.Config.QueryDim, fromHuggingFace.Config.QueryKeyNorm));

        // Several sequences batched in one KV cache (mixed prefill and decode), as the server runs them.
        float[][] each = Logits.LlamaCpp(path, models.Prompts);
        float[][] batched = Logits.OursInterleaved(path, models.Prompts, scheduleSeed: 7);
        for (int i = 0; i < each.Length; i++)
            Assert.True(Logits.RelativeError(batched[i], each[i]) <= F32Tolerance, $"prompt {i} batched: {Logits.RelativeError(batched[i], each[i]):E2}");
    }

    /// <summary>
    /// Writes <paramref name="model"/> as an F32 GGUF of <paramref name="architecture"/>, as a Hugging Face directory of
    /// that model_type, and as our export of that directory: our logits on the GGUF and the directory, and llama.cpp's
    /// on our export, must all equal llama.cpp's on the GGUF (the top token at every position too, for the GGUF).
    /// </summary>
    private (string Gguf, string Directory, float[] Expected) AgreesWithLlamaCppInEveryForm(RandomLlama model, string architecture)
    {
        string path = Path.Combine(models.Directory, $"{architecture}-f32.gguf");
        LlamaFiles.WriteGguf(model, path, GgmlType.F32, architecture: architecture);
        float[] expected = Logits.LlamaCpp(path, models.Prompt);
        float[] ours = Logits.Ours(path, models.Prompt);
        AssertClose($"{architecture} f32 GGUF, {models.Prompt.Length} positions", Logits.RelativeError(ours, expected));
        Assert.Equal(models.Prompt.Length, Logits.TopOneMatches(ours, expected, Vocabulary));

        string directory = Path.Combine(models.Directory, $"{architecture}-hf");
        LlamaFiles.WriteHuggingFace(model, directory, modelType: architecture);
        AssertClose($"{architecture} Hugging Face directory", Logits.RelativeError(Logits.Ours(directory, models.Prompt), expected));

        using var fromHuggingFace = ModelLoader.Load(directory);
        string exported = Path.Combine(models.Directory, $"{architecture}-exported.gguf");
        GgufExporter.Export(fromHuggingFace, exported, GgmlType.F32, LlamaFiles.AddTokenizer);
        AssertClose($"our {architecture} export, read by llama.cpp", Logits.RelativeError(Logits.LlamaCpp(exported, models.Prompt), expected));
        return (path, directory, expected);
    }

    private void AssertClose(string what, double error)
    {
        output.WriteLine($"{what}: max|ours − llama.cpp| / max|llama.cpp| = {error:E2}");
        Assert.True(error <= F32Tolerance, $"{what}: relative error {error:E2} exceeds {F32Tolerance:E0}");
    }

    [Fact]
    public void Llama31RopeFrequencyFactorsMatchLlamaCpp()
    {
        // Llama 3.1 and later store per-frequency divisors (rope_freqs.weight); llama.cpp divides each RoPE frequency by its own.
        var shape = models.Flat.Shape;
        var factors = Enumerable.Range(0, shape.HeadDim / 2).Select(i => 1f + 7f * i / (shape.HeadDim / 2 - 1)).ToArray();
        string path = Path.Combine(models.Directory, "flat-rope-freqs.gguf");
        LlamaFiles.WriteGguf(models.Flat, path, GgmlType.F32, ropeFactors: factors);
        float[] expected = Logits.LlamaCpp(path, models.Prompt);
        AssertClose("rope_freqs factors 1..8", Logits.RelativeError(Logits.Ours(path, models.Prompt), expected));
        double ignored = Logits.RelativeError(Logits.LlamaCpp(models.FlatF32Gguf, models.Prompt), expected);
        output.WriteLine($"the same weights without the factors differ by {ignored:E2}");
        Assert.True(ignored > 100 * F32Tolerance, $"the factors changed the logits by only {ignored:E2}");
        // Converting the file keeps the factors.
        using var loaded = ModelLoader.Load(path);
        string exported = Path.Combine(models.Directory, "flat-rope-freqs-exported.gguf");
        GgufExporter.Export(loaded, exported, GgmlType.F32, LlamaFiles.AddTokenizer);
        AssertClose("our export of it, read by llama.cpp", Logits.RelativeError(Logits.LlamaCpp(exported, models.Prompt), expected));
    }

    [Fact]
    public void GreedyContinuationEqualsLlamaCpp()
    {
        int[] prompt = models.Prompt[..32];
        const int count = 48;
        int[] expected;
        using (var llama = LlamaCppModel.Load(models.FlatF32Gguf))
            expected = llama.GreedyContinuation(prompt, count);
        int[] ours;
        using (var model = ModelLoader.Load(models.FlatF32Gguf))
            ours = new TokenGenerator(model.Model, endOfSequenceId: null)
                .Generate(prompt, SamplingOptions.Greedy with { MaxTokens = count, StopAtEndOfSequence = false }).ToArray();

        output.WriteLine($"llama.cpp greedy: {string.Join(' ', expected)}");
        Assert.Equal(expected, ours);
        Assert.True(expected.Distinct().Count() > 1, "the continuation repeats one token, so it shows little");
    }

    [Fact]
    public void LongPromptMatchesLlamaCppUpToTheEndOfTheContext()
    {
        // 2040 positions of a 2048 context (DCLM-7B's length): RoPE angles up to ~2000 rad, long attention rows.
        int[] prompt = models.Prompts.SelectMany(p => p).Concat(models.Prompts.SelectMany(p => p)).Take(2040).ToArray();
        int[] rows = [.. Enumerable.Range(0, 2040).Where(p => p % 97 == 0 || p >= 2032)];
        float[] expected = Logits.LlamaCpp(models.FlatF32Gguf, prompt, rows);
        float[] ours = Logits.Ours(models.FlatF32Gguf, prompt, rows);

        double error = Logits.RelativeError(ours, expected);
        double lastRows = Logits.RelativeError(ours.AsSpan(^(8 * Vocabulary)..), expected.AsSpan(^(8 * Vocabulary)..));
        output.WriteLine($"{prompt.Length} positions, {rows.Length} logit rows: relative error {error:E2}, last 8 positions {lastRows:E2}");
        Assert.True(error <= F32Tolerance, $"relative error {error:E2} exceeds {F32Tolerance:E0}");
    }

    [Fact]
    public void SequencesBatchedTogetherMatchLlamaCppRunningEachAlone()
    {
        float[][] expected = Logits.LlamaCpp(models.FlatF32Gguf, models.Prompts);
        float[][] ours = Logits.OursInterleaved(models.FlatF32Gguf, models.Prompts, scheduleSeed: 5);

        for (int i = 0; i < expected.Length; i++)
        {
            double error = Logits.RelativeError(ours[i], expected[i]);
            output.WriteLine($"prompt {i} (slot {i} of {expected.Length}, mixed prefill and decode): relative error {error:E2}");
            Assert.True(error <= F32Tolerance, $"prompt {i}: relative error {error:E2} exceeds {F32Tolerance:E0}");
        }
    }

    [Fact]
    public void Q8_0GgufAgreesWithLlamaCppOnTheTopToken()
    {
        float[][] llamaCppQ8 = Logits.LlamaCpp(models.DecisiveQ8Gguf, models.Prompts);
        float[][] llamaCppF32 = Logits.LlamaCpp(models.DecisiveF32Gguf, models.Prompts);
        float[][] ours = Logits.OursInterleaved(models.DecisiveQ8Gguf, models.Prompts, scheduleSeed: 6);

        int positions = 0, agree = 0, quantizationAgree = 0, copies = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            int matches = Logits.TopOneMatches(ours[i], llamaCppQ8[i], Vocabulary);
            int quantizationMatches = Logits.TopOneMatches(llamaCppQ8[i], llamaCppF32[i], Vocabulary);
            double error = Logits.RelativeError(ours[i], llamaCppQ8[i]);
            double quantizationError = Logits.RelativeError(llamaCppQ8[i], llamaCppF32[i]);
            int length = models.Prompts[i].Length;
            output.WriteLine($"prompt {i}: top-1 ours = llama.cpp at {matches}/{length}, relative error {error:E2}; " +
                $"llama.cpp q8_0 vs its f32: top-1 {quantizationMatches}/{length}, relative error {quantizationError:E2}");
            // Both engines quantize activations to Q8_0, so a one-ulp difference anywhere (summation order) can
            // flip one rounding, and from there the two runs differ by Q8_0 activation noise: 0.4-0.75 of what
            // quantization moves llama.cpp from f32 (measured), so 1.5 times that is the limit. A wrong scale,
            // block layout or row order lands 10 times and more beyond it.
            double limit = Math.Max(1.5 * quantizationError, 1e-3);
            Assert.True(error <= limit, $"prompt {i}: ours is {error:E2} from llama.cpp's q8_0, over 1.5 times q8_0's own error ({quantizationError:E2})");
            for (int p = 0; p < length; p++)
                if (Logits.ArgMax(llamaCppF32[i].AsSpan(p * Vocabulary, Vocabulary)) == models.Prompts[i][p]) copies++;
            positions += length;
            agree += matches;
            quantizationAgree += quantizationMatches;
        }
        output.WriteLine($"in all: ours = llama.cpp at {agree}/{positions}; llama.cpp's f32 top token is the input token itself at {copies}/{positions}");
        Assert.True(quantizationAgree >= 0.99 * positions,
            $"precondition: llama.cpp's own q8_0 and f32 runs agree at only {quantizationAgree}/{positions}; the test model is too flat for a top-1 comparison");
        Assert.True(agree >= 0.99 * positions, $"top-1 agreement {agree}/{positions} is below 99%");
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    [InlineData(GgmlType.Q4_0)]
    public void OtherStorageTypesStayAsCloseToLlamaCppAsTheTypeAllows(GgmlType type)
    {
        string path = models.PathOf($"decisive-{type}.gguf");
        LlamaFiles.WriteGguf(models.Decisive, path, type);
        float[] llamaCppF32 = Logits.LlamaCpp(models.DecisiveF32Gguf, models.Prompt);
        float[] llamaCpp = Logits.LlamaCpp(path, models.Prompt);
        float[] ours = Logits.Ours(path, models.Prompt);

        double error = Logits.RelativeError(ours, llamaCpp);
        double typeError = Logits.RelativeError(llamaCpp, llamaCppF32);
        int matches = Logits.TopOneMatches(ours, llamaCpp, Vocabulary);
        output.WriteLine($"{type}: ours vs llama.cpp {error:E2}, top-1 {matches}/{models.Prompt.Length}; llama.cpp {type} vs its f32 {typeError:E2}");
        // The engines round activations differently (llama.cpp to f16/bf16/q8_0 before each product), so they
        // may differ by about the type's own rounding (measured 0.6 of it), with the same 1.5 slack as the
        // Q8_0 test; for Q4_0, whose weights move llama.cpp ~10%, the limit is the ~1% Q8_0 activation noise.
        double limit = Math.Max(Math.Min(1.5 * typeError, 2e-2), 1e-4);
        Assert.True(error <= limit, $"{type}: ours is {error:E2} from llama.cpp, over the limit {limit:E2} (llama.cpp {type} vs f32: {typeError:E2})");
    }

    [Fact]
    public void HuggingFaceDirectoryMatchesTheGgufAndLlamaCpp()
    {
        float[] llamaCpp = Logits.LlamaCpp(models.FlatF32Gguf, models.Prompt);
        float[] gguf = Logits.Ours(models.FlatF32Gguf, models.Prompt);
        float[] huggingFace = Logits.Ours(models.FlatHuggingFaceDirectory, models.Prompt);

        double versusGguf = Logits.RelativeError(huggingFace, gguf);
        double versusLlamaCpp = Logits.RelativeError(huggingFace, llamaCpp);
        output.WriteLine($"Hugging Face dir (half-split RoPE) vs our GGUF (adjacent pairs): {versusGguf:E2}; vs llama.cpp: {versusLlamaCpp:E2}");
        Assert.True(versusGguf <= 1e-4, $"Hugging Face vs GGUF relative error {versusGguf:E2} exceeds 1e-4");
        Assert.True(versusLlamaCpp <= F32Tolerance, $"Hugging Face vs llama.cpp relative error {versusLlamaCpp:E2} exceeds {F32Tolerance:E0}");
    }

    [Fact]
    public void WithoutTheRowPermutationLlamaCppDisagrees()
    {
        // The control that shows the RoPE checks can fail: the same weights written to GGUF with Q/K rows
        // left in Hugging Face order make llama.cpp rotate the wrong pairs.
        string unpermuted = models.PathOf("flat-unpermuted-f32.gguf");
        LlamaFiles.WriteGguf(models.Flat, unpermuted, GgmlType.F32, permuteQueryKeyRows: false);
        float[] wrong = Logits.LlamaCpp(unpermuted, models.Prompt);
        float[] huggingFace = Logits.Ours(models.FlatHuggingFaceDirectory, models.Prompt);

        double error = Logits.RelativeError(huggingFace, wrong);
        output.WriteLine($"Hugging Face dir vs llama.cpp on unpermuted rows: {error:E2}");
        Assert.True(error > 1e-2, $"relative error {error:E2}: RoPE pairing made no visible difference, so the RoPE checks prove nothing");
    }

    [Theory]
    [InlineData(GgmlType.F32, F32Tolerance)]
    [InlineData(GgmlType.Q8_0, 2e-2)]
    public void ExportedGgufLoadsInLlamaCppAndAgrees(GgmlType type, double tolerance)
    {
        // The reference: the same weights written by this test's own writer, Q/K rows permuted independently.
        string reference = type == GgmlType.F32 ? models.FlatF32Gguf : models.PathOf($"flat-{type}.gguf");
        if (type != GgmlType.F32) LlamaFiles.WriteGguf(models.Flat, reference, type);
        string exported = models.PathOf($"exported-from-hf-{type}.gguf");
        using (var huggingFace = ModelLoader.Load(models.FlatHuggingFaceDirectory))
            GgufExporter.Export(huggingFace, exported, type, LlamaFiles.AddTokenizer);

        float[] llamaCppReference = Logits.LlamaCpp(reference, models.Prompt);
        float[] llamaCpp = Logits.LlamaCpp(exported, models.Prompt);
        float[] ours = Logits.Ours(exported, models.Prompt);

        double exportVersusReference = Logits.RelativeError(llamaCpp, llamaCppReference);
        double oursVersusLlamaCpp = Logits.RelativeError(ours, llamaCpp);
        output.WriteLine($"{type}: llama.cpp on our export vs on the reference GGUF: {exportVersusReference:E2}; ours vs llama.cpp on the export: {oursVersusLlamaCpp:E2}");
        // The export holds the same values (the same quantized blocks) in the same order, so llama.cpp must
        // compute the same numbers from it.
        Assert.True(exportVersusReference <= 1e-6, $"llama.cpp on the export differs from the reference file by {exportVersusReference:E2}");
        Assert.True(oursVersusLlamaCpp <= tolerance, $"ours vs llama.cpp on the export: {oursVersusLlamaCpp:E2} exceeds {tolerance:E0}");
    }
}
