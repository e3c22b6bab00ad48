using Dclm.Checkpoints;
using Dclm.Inference;
using Dclm.Models.Adapters;
using Dclm.Training.FineTuning;

namespace Dclm.Training.Alignment.Reinforcement;

/// <summary>A sampled completion: its tokens (the end-of-sequence token last when it ended the completion) and its text.</summary>
/// <param name="Tokens">The actions.</param>
/// <param name="Text">The decoded text, without the end-of-sequence token.</param>
public sealed record SampledCompletion(int[] Tokens, string Text);

/// <summary>
/// Rollouts from the inference model (KV cache, the decode path <c>dclm generate</c> runs) with the training adapters
/// served as an adapter of it: the <see cref="LoraAdapters.ToWeights"/> view over the same arrays, refreshed after each
/// update because the serving projections keep B transposed.
/// </summary>
public sealed class RolloutSampler
{
    private readonly LoadedModel _loaded;
    private readonly AdapterSet _set;
    private readonly int _id;
    private readonly int? _endOfSequence;

    /// <summary>Serves <paramref name="adapters"/> on <paramref name="loaded"/>'s model for every sequence.</summary>
    public RolloutSampler(LoadedModel loaded, LoraAdapters adapters)
    {
        _loaded = loaded;
        _set = new AdapterSet(loaded.Model);
        _id = _set.Add("policy", adapters.ToWeights());
        _set.UseEverywhere(_id);
        _endOfSequence = loaded.RequireTokenizer().EndOfSequenceId;
    }

    /// <summary>Re-reads the adapters' values (call after each optimizer update).</summary>
    public void Refresh() => _set.Refresh(_id);

    /// <summary>One completion of <paramref name="prompt"/> sampled under <paramref name="options"/> (its MaxTokens bounds the length).</summary>
    public SampledCompletion Sample(int[] prompt, SamplingOptions options, CancellationToken cancellation = default)
    {
        var generator = new TokenGenerator(_loaded.Model, _endOfSequence);
        var tokens = generator.Generate(prompt, options, cancellation).ToList();
        string text = _loaded.RequireTokenizer().Decode(tokens.ToArray());
        if (generator.FinishReason == FinishReason.Stop && _endOfSequence is int eos) tokens.Add(eos);
        return new SampledCompletion([.. tokens], text);
    }
}
