using Dclm.Checkpoints;
using Dclm.Gpu.Conformance;
using Dclm.Models;
using Dclm.Tensors;

namespace Dclm.Gpu.Tests;

/// <summary>
/// The launch budget of a decode step (each launch costs ~4.5 µs of host time on an H200) and the fused kernels'
/// promise: the same logits, bit for bit, as the unfused launches, for every graph's variant of the step.
/// </summary>
public sealed class LaunchBudgetTests(CpuAcceleratorFixture accelerator) : IClassFixture<CpuAcceleratorFixture>
{
    /// <summary>
    /// Launches per layer of a one-token decode step whose context fits one attention split: norm+Q8, Q, K, V, the
    /// q/k preparation, attention, Wo (after Q8 of the attention output for quantized weights), norm+Q8, gate, up,
    /// SwiGLU+Q8, down. Unfused it was 15 (f32) and 19 (q4_0).
    /// </summary>
    public const int FloatLaunchesPerLayer = 12, QuantizedLaunchesPerLayer = 13;

    /// <summary>The head: gather+norm+Q8 and the product (unfused: gather, norm, Q8 for quantized weights, product).</summary>
    public const int HeadLaunches = 2;

    [Theory]
    [InlineData("f32", FloatLaunchesPerLayer, 15, 3)]
    [InlineData("q4_0", QuantizedLaunchesPerLayer, 19, 4)]
    public void ADecodeStepOfDclmTinyStaysWithinItsLaunchBudget(string type, int perLayer, int unfusedPerLayer, int unfusedHead)
    {
        Assert.True(GgmlTypeInfo.TryParse(type, out var parsed));
        using var loaded = ModelLoader.Load(Path.Combine(CpuAcceleratorFixture.Fixtures, "dclm-tiny"));
        using var memory = new HostWeights();
        var weights = memory.Convert(loaded.Model.Weights, parsed);
        int layers = loaded.Config.Layers;
        foreach (bool fused in new[] { true, false })
        {
            using var gpu = new GpuDecoderModel(loaded.Config, weights, accelerator.Device) { UsesFusedKernels = fused };
            var cache = gpu.CreateCache(1, 32);
            var logits = new float[loaded.Config.VocabularySize];
            gpu.Forward(ForwardBatch.Sequence([5, 9, 11, 3, 7], 0), cache, logits);
            long launches = gpu.Counter.Launches, transfers = gpu.Counter.Transfers;
            gpu.Forward(ForwardBatch.Sequence([13], 5), cache, logits);
            launches = gpu.Counter.Launches - launches;
            transfers = gpu.Counter.Transfers - transfers;
            // Two packed uploads (ints, floats) and the logits back, fused or not.
            Assert.Equal(3, transfers);
            if (fused) Assert.True(launches <= layers * perLayer + HeadLaunches, $"{launches} launches in a decode step of {layers} layers");
            else Assert.Equal(layers * unfusedPerLayer + unfusedHead, launches);
        }
    }

    /// <summary>A prefill with every row's logits and decode steps, fused and unfused, in the weight types whose kernels differ.</summary>
    [Theory]
    [InlineData("dclm-tiny", "q4_0")]
    [InlineData("dclm-tiny", "f32")]
    [InlineData("llama", "q8_0")]
    [InlineData("qwen2", "q4_0")]
    [InlineData("qwen3", "q4_0")]
    public void FusedKernelsGiveTheUnfusedLogitsBitForBit(string model, string type)
    {
        Assert.True(GgmlTypeInfo.TryParse(type, out var parsed));
        using var memory = new HostWeights();
        using var loaded = model == "dclm-tiny" ? ModelLoader.Load(Path.Combine(CpuAcceleratorFixture.Fixtures, model)) : null;
        var config = loaded?.Config ?? SyntheticDecoders.Config(model);
        var weights = memory.Convert(loaded?.Model.Weights ?? SyntheticDecoders.Weights(config, memory, seed: 7), parsed);
        var results = new List<float[]>();
        foreach (bool fused in new[] { true, false })
        {
            using var gpu = new GpuDecoderModel(config, weights, accelerator.Device) { UsesFusedKernels = fused };
            var cache = gpu.CreateCache(1, 32);
            int vocabulary = config.VocabularySize;
            var prompt = Enumerable.Range(0, 9).Select(i => (i * 37 + 5) % vocabulary).ToArray();
            var logits = new float[(prompt.Length + 3) * vocabulary];
            gpu.Forward(ForwardBatch.Sequence(prompt, 0, allLogits: true), cache, logits);
            for (int step = 0; step < 3; step++)
                gpu.Forward(ForwardBatch.Sequence([(step * 11 + 2) % vocabulary], prompt.Length + step), cache,
                    logits.AsSpan((prompt.Length + step) * vocabulary, vocabulary));
            results.Add(logits);
        }
        Assert.Contains(results[0], v => v != 0);
        for (int i = 0; i < results[0].Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(results[0][i]) == BitConverter.SingleToInt32Bits(results[1][i]), $"logit {i}: {results[0][i]} vs {results[1][i]}");
    }
}
