namespace Dclm.Inference.Constraints;

/// <summary>
/// Constrained decoding by a byte grammar: before each draw every token whose bytes the grammar cannot read
/// from its current state is masked out, and once the text is complete only an end token may follow. Most
/// tokens fail on their first byte, which is tried once per group of tokens that share it.
/// </summary>
public class ByteGrammarConstraint<TGrammar> : ITokenConstraint
    where TGrammar : struct, IByteGrammar
{
    private readonly TokenByteTable tokens;
    private readonly IReadOnlyCollection<int> endTokens;
    private TGrammar _grammar;

    /// <param name="tokens">Every token's bytes.</param>
    /// <param name="endTokens">The tokens that may end the reply once the grammar is complete; at least one.</param>
    /// <param name="start">The grammar's state at the start of the reply.</param>
    public ByteGrammarConstraint(TokenByteTable tokens, IReadOnlyCollection<int> endTokens, TGrammar start)
    {
        if (endTokens.Count == 0) throw new ArgumentException("the model has no end-of-sequence or end-of-turn token, so a constrained reply could never end");
        (this.tokens, this.endTokens, _grammar) = (tokens, endTokens, start);
    }

    /// <summary>Whether the text is complete (only an end token may follow).</summary>
    public bool IsComplete => _grammar.IsComplete;

    /// <inheritdoc />
    public void Mask(Span<float> scores)
    {
        int count = Math.Min(scores.Length, tokens.Count);
        if (_grammar.IsComplete)
        {
            for (int id = 0; id < count; id++)
                if (!endTokens.Contains(id)) scores[id] = float.NegativeInfinity;
            return;
        }
        // Tokens are grouped by first byte: one byte rules out (or lets through) a whole group, and only the
        // rest of each surviving token is tried, from the state after that byte. Inside a string, plain text
        // tokens (most of the vocabulary) pass without being tried.
        bool inString = _grammar.InPlainString;
        for (int first = 0; first < 256; first++)
        {
            var after = _grammar;
            bool open = after.Feed((byte)first);
            foreach (int id in tokens.ByFirstByte[first])
            {
                if (id >= count || inString && tokens.IsPlainString(id)) continue;
                if (!open || !Allows(after, tokens[id][1..])) scores[id] = float.NegativeInfinity;
            }
        }
        foreach (int id in tokens.WithoutBytes)
            if (id < count) scores[id] = float.NegativeInfinity;
        scores[count..].Fill(float.NegativeInfinity);
    }

    /// <inheritdoc />
    public void Accept(int token)
    {
        if (_grammar.IsComplete) return; // an end token
        foreach (byte b in tokens[token])
            if (!_grammar.Feed(b)) throw new InvalidOperationException($"token {token} does not continue the constrained text");
    }

    private static bool Allows(TGrammar grammar, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            if (!grammar.Feed(b)) return false;
        return true;
    }
}
