using Dclm.Checkpoints;
using Dclm.Models;

namespace Dclm.Inference.Tests;

/// <summary><see cref="DecoderModelExtensions.PromptLogits"/>, the one chunked all-positions loop, against token-by-token decoding.</summary>
public sealed class PromptLogitsTests
{
    [Fact]
    public void ChunkedPromptLogitsMatchOneTokenAtATimeAcrossTheChunkBoundary()
    {
        using var loaded = ModelLoader.Load(TinyModel.Path);
        var model = loaded.Model;
        int v = model.Config.VocabularySize, n = DecoderModelExtensions.PromptLogitsChunk + 20;
        var tokens = Enumerable.Range(0, n).Select(i => (i * 7919 + 13) % v).ToArray();
        var all = model.PromptLogits(tokens);
        Assert.Equal((long)n * v, all.Length);

        // The reference feeds one token per step (a decode), so no chunk or batch shape is shared with the loop.
        var cache = model.CreateCache(1, n);
        var row = new float[v];
        foreach (int p in new[] { 0, 1, DecoderModelExtensions.PromptLogitsChunk - 1, DecoderModelExtensions.PromptLogitsChunk, n - 1 })
        {
            for (int t = cache.Length(0); t <= p; t++) model.Forward(ForwardBatch.Sequence(tokens.AsSpan(t, 1), t), cache, row);
            var chunked = all.AsSpan(p * v, v);
            for (int i = 0; i < v; i++) Assert.True(Math.Abs(chunked[i] - row[i]) <= 1e-3f * (1 + Math.Abs(row[i])), $"position {p}, logit {i}: {chunked[i]} vs {row[i]}");
        }
        Assert.Throws<ArgumentException>(() => model.PromptLogits(new int[model.Config.ContextLength + 1]));
        Assert.Throws<ArgumentException>(() => model.PromptLogits([]));
    }
}
