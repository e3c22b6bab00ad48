using Dclm.Eval.Scoring;

namespace Dclm.Eval.Harness;

/// <summary>
/// Tokenizes a request as lm-evaluation-harness's causal models do (<c>_encode_pair</c>): white space at
/// the end of the context moves to the start of the continuation, the whole text is encoded once and
/// the context on its own, and the continuation is whatever the whole has past the context's tokens.
/// An empty context becomes the end-of-sequence token. No special tokens are added.
/// </summary>
public sealed class HarnessEncoder(IScoringModel model)
{
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    /// <summary>The token ids of a request.</summary>
    public ScoringOption Encode(HarnessRequest request)
    {
        string context = request.Context, continuation = request.Continuation;
        if (context.Length == 0)
        {
            var ids = Cached(continuation);
            int prefix = model.EndOfSequenceId ?? throw new InvalidOperationException("an empty context needs the model's end-of-sequence token, which is unknown");
            return ids.Length > 0 && ids[0] == prefix ? new ScoringOption(ids[..1], ids[1..]) : new ScoringOption([prefix], ids);
        }
        string stripped = PythonText.RightStrip(context);
        if (stripped.Length < context.Length)
        {
            continuation = context[stripped.Length..] + continuation;
            context = stripped;
        }
        var whole = Cached(context + continuation);
        var contextIds = Cached(context);
        return new ScoringOption(contextIds, whole[contextIds.Length..]);
    }

    private int[] Cached(string text)
    {
        if (_cache.TryGetValue(text, out var ids)) return ids;
        if (_cache.Count > 4096) _cache.Clear();
        return _cache[text] = model.Encode(text);
    }
}
