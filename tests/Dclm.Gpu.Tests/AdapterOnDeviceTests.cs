using Dclm.Checkpoints;
using Dclm.Gpu.Conformance;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Models;
using Dclm.Models.Adapters;
using Dclm.Tensors;

namespace Dclm.Gpu.Tests;

/// <summary>
/// LoRA adapters served on the device (ILGPU's CPU accelerator) against the CPU engine's <see cref="AdapterSet"/>, whose
/// own tests check it against merged weights (a float64 oracle), PEFT's published layout and llama.cpp.
/// </summary>
public sealed class AdapterOnDeviceTests(CpuAcceleratorFixture accelerator) : IClassFixture<CpuAcceleratorFixture>
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (model, type) in AdapterConformance.Cases) data.Add(model, GgmlTypeInfo.Name(type));
        return data;
    }

    /// <summary>
    /// One sequence on an adapter within 1e-4 of the CPU engine; a batch mixing two adapters and the base: within 1e-4
    /// of the CPU engine, decode bit for bit as one by one, base rows bit for bit as a model without adapters, adapted
    /// rows moved by at least 1e-2 (dclm-tiny: open_lm's fused projections with shared A; Llama; Qwen2's biases; f32
    /// and quantized bases).
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void AdaptedLogitsMatchTheCpuEngine(string model, string type)
    {
        Assert.True(GgmlTypeInfo.TryParse(type, out var parsed));
        var results = AdapterConformance.Run(accelerator.Device, CpuAcceleratorFixture.Fixtures, model, parsed);
        Assert.Equal(5, results.Count);
        foreach (var r in results) Assert.True(r.Passed, r.ToString());
    }

    [Fact]
    public void AStepOnTheBaseLaunchesNothingMoreAndAnAdaptedStepOneKernelPerProduct()
    {
        using var loaded = ModelLoader.Load(Path.Combine(CpuAcceleratorFixture.Fixtures, "dclm-tiny"));
        var config = loaded.Config;
        using var plain = new GpuDecoderModel(config, loaded.Model.Weights, accelerator.Device);
        using var adapted = new GpuDecoderModel(config, loaded.Model.Weights, accelerator.Device);
        var set = new AdapterSet(loaded.Model);
        set.Add("every-target", SyntheticAdapters.EveryTarget(config, seed: 3));
        adapted.UseAdapters(set);
        var logits = new float[config.VocabularySize];
        (long Launches, long Transfers) DecodeStep(GpuDecoderModel gpu)
        {
            var cache = gpu.CreateCache(1, 32);
            gpu.Forward(ForwardBatch.Sequence([5, 9, 11, 3, 7], 0), cache, logits);
            long launches = gpu.Counter.Launches, transfers = gpu.Counter.Transfers;
            gpu.Forward(ForwardBatch.Sequence([13], 5), cache, logits);
            return (gpu.Counter.Launches - launches, gpu.Counter.Transfers - transfers);
        }
        var bare = DecodeStep(plain);
        set.UseEverywhere(0);
        Assert.Equal(bare, DecodeStep(adapted));
        set.UseEverywhere(1);
        Assert.Equal((bare.Launches + 4 * config.Layers, bare.Transfers), DecodeStep(adapted));
    }

    [Fact]
    public void AnAdapterSetOfAnotherModelIsRefusedInOneLine()
    {
        using var loaded = ModelLoader.Load(Path.Combine(CpuAcceleratorFixture.Fixtures, "dclm-tiny"));
        using var memory = new HostWeights();
        var llama = SyntheticDecoders.Config("llama");
        using var other = new DecoderModel(llama, SyntheticDecoders.Weights(llama, memory, seed: 1));
        using var gpu = new GpuDecoderModel(loaded.Config, loaded.Model.Weights, accelerator.Device);
        var error = Assert.Throws<ArgumentException>(() => gpu.UseAdapters(new AdapterSet(other)));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("another model", error.Message);
        // An adapter whose shapes do not fit the model never reaches the device: LoraWeights names the projection.
        var shapeError = Assert.Throws<ArgumentException>(() => new LoraWeights(loaded.Config,
            [new LoraUpdate(0, LoraTarget.Query, new float[3 * (loaded.Config.Dim + 32)], new float[loaded.Config.QueryDim * 3], 3, 1f)]));
        Assert.DoesNotContain('\n', shapeError.Message);
        Assert.Contains("layers.0.q", shapeError.Message);
    }

    /// <summary>
    /// The batching engine over the device model serving two adapters, one of them loaded while the engine runs (as
    /// POST /v1/lora-adapters does), gives the greedy tokens and log-probabilities of the same engine over the CPU model.
    /// </summary>
    [Fact]
    public async Task TheEngineServesAdaptersLoadedBeforeAndWhileItRuns()
    {
        using var loaded = ModelLoader.Load(Path.Combine(CpuAcceleratorFixture.Fixtures, "dclm-tiny"));
        var config = loaded.Config;
        using var gpu = new GpuDecoderModel(config, loaded.Model.Weights, accelerator.Device);
        var set = new AdapterSet(loaded.Model);
        set.Add("every-target", SyntheticAdapters.EveryTarget(config, seed: 5));
        gpu.UseAdapters(set);
        var options = new EngineOptions { MaxRunningSequences = 3, StepTokenBudget = 16, BlockSize = 8, ContextLength = 64, PrefixCacheEntries = 2 };
        using var onCpu = new InferenceEngine(loaded.Model, null, options, set);
        using var onDevice = new InferenceEngine(gpu, null, options, set);
        var sampling = SamplingOptions.Greedy with { MaxTokens = 4, StopAtEndOfSequence = false };
        int[][] prompts = [[5, 17, 33, 2, 90], [60, 3, 3, 88, 41, 7, 19, 250, 12], [400, 1, 77]];
        async Task<GenerationResult[]> Run(InferenceEngine engine, int[] adapterOf) => await Task.WhenAll(prompts.Select((p, i) =>
            engine.Submit(engine.CreateRequest(p, sampling, topLogprobs: 2, adapter: adapterOf[i])).CollectAsync()));

        set.Add("wide", SyntheticAdapters.Wide(config, seed: 6));
        int[] adapterOf = [1, 0, 2];
        var expected = await Run(onCpu, adapterOf);
        var actual = await Run(onDevice, adapterOf);
        var bare = await Run(onDevice, [0, 0, 0]);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i].TokenIds, actual[i].TokenIds);
            for (int t = 0; t < expected[i].Logprobs.Count; t++)
                Assert.Equal(expected[i].Logprobs[t].Logprob, actual[i].Logprobs[t].Logprob, 1e-4 * Math.Max(1, Math.Abs(expected[i].Logprobs[t].Logprob)));
        }
        // The adapters change what the adapted sequences generate, so the comparison above is not the base's against itself.
        for (int i = 0; i < prompts.Length; i++)
        {
            bool moved = !bare[i].TokenIds.SequenceEqual(actual[i].TokenIds) || Math.Abs(bare[i].Logprobs[0].Logprob - actual[i].Logprobs[0].Logprob) > 1e-3;
            Assert.Equal(adapterOf[i] != 0, moved);
        }
    }
}
