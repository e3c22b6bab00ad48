using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.Inference.Engine;
using Dclm.Models.Adapters;

namespace Dclm.Gpu.Tests;

/// <summary>
/// The continuous-batching engine over the GPU backend (on ILGPU's CPU accelerator), unchanged, against the same engine
/// over the CPU model, whose logits are checked against PyTorch's reference dump in its own tests: chunked prefills mixed
/// with decode steps, prompt log-probabilities, and prefix reuse with a copy-on-write of a shared block on the device.
/// </summary>
public sealed class EngineOnDeviceTests(CpuAcceleratorFixture accelerator) : IClassFixture<CpuAcceleratorFixture>, IDisposable
{
    private readonly LoadedModel _loaded = ModelLoader.Load(Path.Combine(CpuAcceleratorFixture.Fixtures, "dclm-tiny"));

    public void Dispose() => _loaded.Dispose();

    private GpuDecoderModel OnDevice() => new(_loaded.Config, _loaded.Model.Weights, accelerator.Device);

    // Small steps and blocks: prefills run in chunks beside other sequences' decode steps, and sequences span several blocks.
    private static EngineOptions Options => new() { MaxRunningSequences = 3, StepTokenBudget = 16, BlockSize = 8, ContextLength = 128, PrefixCacheEntries = 4 };

    private static int[] Prompt(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(1, 512)).ToArray();
    }

    private static async Task<GenerationResult[]> RunAll(InferenceEngine engine, IReadOnlyList<int[]> prompts, bool promptLogprobs)
    {
        var options = SamplingOptions.Greedy with { MaxTokens = 4, StopAtEndOfSequence = false };
        return await Task.WhenAll(prompts.Select(p => engine.Submit(engine.CreateRequest(p, options, topLogprobs: 3, promptLogprobs: promptLogprobs)).CollectAsync()));
    }

    private static void AssertClose(TokenLogprobs expected, TokenLogprobs actual)
    {
        Assert.Equal(expected.Logprob, actual.Logprob, 1e-4 * Math.Max(1, Math.Abs(expected.Logprob)));
        Assert.Equal(expected.Top.Select(t => t.TokenId), actual.Top.Select(t => t.TokenId));
        for (int i = 0; i < expected.Top.Count; i++) Assert.Equal(expected.Top[i].Logprob, actual.Top[i].Logprob, 1e-4 * Math.Max(1, Math.Abs(expected.Top[i].Logprob)));
    }

    private static void AssertSame(GenerationResult expected, GenerationResult actual)
    {
        Assert.Equal(expected.TokenIds, actual.TokenIds);
        Assert.Equal(expected.Usage.CachedTokens, actual.Usage.CachedTokens);
        Assert.Equal(expected.Logprobs.Count, actual.Logprobs.Count);
        for (int i = 0; i < expected.Logprobs.Count; i++) AssertClose(expected.Logprobs[i], actual.Logprobs[i]);
        Assert.Equal(expected.PromptLogprobs is null, actual.PromptLogprobs is null);
        if (expected.PromptLogprobs is null) return;
        Assert.Equal(expected.PromptLogprobs.Count, actual.PromptLogprobs!.Count);
        for (int i = 1; i < expected.PromptLogprobs.Count; i++) AssertClose(expected.PromptLogprobs[i]!, actual.PromptLogprobs[i]!);
    }

    [Fact]
    public async Task ConcurrentRequestsAndASecondTurnGiveTheCpuEnginesTokensAndLogprobs()
    {
        int[][] prompts = [Prompt(3, 1), Prompt(21, 2), Prompt(37, 3)];
        using var gpu = OnDevice();
        using var onCpu = new InferenceEngine(_loaded.Model, null, Options);
        using var onDevice = new InferenceEngine(gpu, null, Options);

        var expected = await RunAll(onCpu, prompts, promptLogprobs: true);
        var actual = await RunAll(onDevice, prompts, promptLogprobs: true);
        for (int i = 0; i < prompts.Length; i++) AssertSame(expected[i], actual[i]);
        Assert.True(onDevice.Statistics.Steps < prompts.Length * 4, $"{onDevice.Statistics.Steps} steps: the requests were not batched");

        // Turn one without prompt log-probabilities (those prompts are never cached), then a second turn that extends it:
        // it reuses every computed position, and its first write lands in the shared, half-full last block (copied first).
        int[] first = Prompt(14, 4);
        var turnOne = (await RunAll(onCpu, [first], promptLogprobs: false))[0];
        Assert.Equal(turnOne.TokenIds, (await RunAll(onDevice, [first], promptLogprobs: false))[0].TokenIds);
        int[] second = [.. first, .. turnOne.TokenIds, .. Prompt(5, 5)];
        int reused = first.Length + turnOne.TokenIds.Count - 1;
        Assert.NotEqual(0, reused % Options.BlockSize);
        var expectedSecond = (await RunAll(onCpu, [second], promptLogprobs: false))[0];
        var actualSecond = (await RunAll(onDevice, [second], promptLogprobs: false))[0];
        Assert.Equal(reused, actualSecond.Usage.CachedTokens);
        AssertSame(expectedSecond, actualSecond);
    }

    [Fact]
    public void AdaptersNotAttachedToTheDeviceModelAreRefusedOverIt()
    {
        using var gpu = OnDevice();
        var adapters = new AdapterSet(_loaded.Model);
        var error = Assert.Throws<NotSupportedException>(() => new InferenceEngine(gpu, null, Options, adapters));
        Assert.Contains("attached to another model", error.Message);
    }

    [Fact]
    public void AnInt8CacheIsRefusedByTheDeviceModel()
    {
        using var gpu = OnDevice();
        var error = Assert.Throws<NotSupportedException>(() => new InferenceEngine(gpu, null, Options with { KvCacheType = Models.KvCacheType.Int8 }));
        Assert.Contains("f32", error.Message);
    }
}
