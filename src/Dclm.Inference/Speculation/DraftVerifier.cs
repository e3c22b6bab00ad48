namespace Dclm.Inference.Speculation;

/// <summary>
/// The acceptance rule of speculative sampling (Leviathan et al. 2023; Chen et al. 2023) for a deterministic
/// draft. With a draft distribution q, draft token d is kept with probability min(1, p(d)/q(d)) and on
/// rejection a token is drawn from norm(max(0, p − q)). A deterministic draft has q = δ_d, so d is kept with
/// probability p(d) and a rejection draws from p without d, renormalised. Drawing x ~ p and keeping d when
/// x = d does exactly that in one draw: P(keep) = p(d), and given x ≠ d, x ~ p(·)/(1 − p(d)) over the rest.
/// So each emitted token is drawn from the target's own sampler, in order, and the output has the target's
/// distribution; with the same seed it is even the same tokens as decoding without a draft, because every
/// emitted token takes the same one draw. Greedy decoding is the case p = δ_argmax.
/// </summary>
public static class DraftVerifier
{
    /// <summary>
    /// Chooses tokens from the target's logits of positions 0..draft.Length, where row i follows
    /// <paramref name="history"/> and <paramref name="draft"/>[..i]: row i's token is emitted, and the next row
    /// is read only when that token equals draft[i]. Writes the emitted tokens (1 to draft.Length + 1) to
    /// <paramref name="emitted"/>, appending each to <paramref name="history"/> as it is chosen (the sampler's
    /// penalties see it), and returns how many; it stops early after <paramref name="stopToken"/>.
    /// </summary>
    /// <param name="sampler">The target's sampler for this sequence (its seed and constraint advance per emitted token).</param>
    /// <param name="logits">The target's logits, one row per position. (draft.Length + 1, vocab)</param>
    /// <param name="vocabulary">Width of one logit row.</param>
    /// <param name="history">Prompt and emitted tokens so far; emitted tokens are added to it.</param>
    /// <param name="draft">The proposed tokens.</param>
    /// <param name="stopToken">A token that ends generation (end of sequence), or null.</param>
    /// <param name="emitted">Receives the emitted tokens. (≥ draft.Length + 1)</param>
    public static int Verify(Sampler sampler, ReadOnlySpan<float> logits, int vocabulary, List<int> history,
        ReadOnlySpan<int> draft, int? stopToken, Span<int> emitted)
    {
        if (logits.Length < (long)(draft.Length + 1) * vocabulary)
            throw new ArgumentException($"{draft.Length + 1} rows of {vocabulary} logits are needed, {logits.Length} values were given");
        if (emitted.Length < draft.Length + 1) throw new ArgumentException($"room for {draft.Length + 1} tokens is needed, {emitted.Length} given");
        for (int i = 0; i <= draft.Length; i++)
        {
            int token = sampler.Sample(logits.Slice(i * vocabulary, vocabulary), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history));
            emitted[i] = token;
            if (token == stopToken) return i + 1;
            history.Add(token);
            if (i == draft.Length || token != draft[i]) return i + 1;
        }
        return draft.Length + 1;
    }
}
