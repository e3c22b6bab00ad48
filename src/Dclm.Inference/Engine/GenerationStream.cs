using System.Runtime.CompilerServices;
using System.Text;

namespace Dclm.Inference.Engine;

/// <summary>The whole output of one request.</summary>
/// <param name="Text">Generated text, with stop strings cut off.</param>
/// <param name="TokenIds">Generated token ids (including any whose text a stop string hid).</param>
/// <param name="FinishReason">Why generation ended.</param>
/// <param name="Usage">Token counts.</param>
/// <param name="Logprobs">Per generated token, when the request asked for log-probabilities; else empty.</param>
/// <param name="PromptLogprobs">Per prompt token (null for the first), when the request asked for them; else null.</param>
public sealed record GenerationResult(string Text, IReadOnlyList<int> TokenIds, FinishReason FinishReason, GenerationUsage Usage, IReadOnlyList<TokenLogprobs> Logprobs,
    IReadOnlyList<TokenLogprobs?>? PromptLogprobs = null);

/// <summary>
/// The updates of one submitted request, read once, in order; the last one carries the finish reason
/// and usage. Cancelling the token given at submission ends the sequence inside the engine.
/// </summary>
public sealed class GenerationStream : IAsyncEnumerable<GenerationUpdate>
{
    private readonly SequenceOutput _output;

    internal GenerationStream(SequenceOutput output, int promptTokens)
    {
        _output = output;
        PromptTokens = promptTokens;
    }

    /// <summary>Tokens in the prompt.</summary>
    public int PromptTokens { get; }

    /// <inheritdoc />
    public IAsyncEnumerator<GenerationUpdate> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);

    private async IAsyncEnumerable<GenerationUpdate> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await _output.WaitToReadAsync(cancellationToken))
            while (_output.TryRead(out var update)) yield return update;
    }

    /// <summary>Reads every update and joins them into one result.</summary>
    public Task<GenerationResult> CollectAsync(CancellationToken cancellationToken = default) => CollectAsync(null, cancellationToken);

    /// <summary>Reads every update, showing each to <paramref name="observe"/> as it arrives, and joins them into one result.</summary>
    public async Task<GenerationResult> CollectAsync(Action<GenerationUpdate>? observe, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        var tokens = new List<int>();
        var logprobs = new List<TokenLogprobs>();
        IReadOnlyList<TokenLogprobs?>? promptLogprobs = null;
        await foreach (var update in this.WithCancellation(cancellationToken))
        {
            observe?.Invoke(update);
            text.Append(update.Text);
            promptLogprobs ??= update.PromptLogprobs;
            if (update.TokenId >= 0) tokens.Add(update.TokenId);
            if (update.Logprobs is { } logprob) logprobs.Add(logprob);
            if (update.Usage is not null) return new GenerationResult(text.ToString(), tokens, update.FinishReason, update.Usage, logprobs, promptLogprobs);
        }
        throw new InvalidOperationException("the generation ended without a final update");
    }
}
