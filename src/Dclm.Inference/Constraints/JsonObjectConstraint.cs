namespace Dclm.Inference.Constraints;

/// <summary>
/// OpenAI's JSON mode: the reply is one JSON object (<see cref="JsonByteGrammar"/>), and once it closes only
/// an end token may follow. Each step tests every token's bytes against the grammar from the current state;
/// most fail on their first byte, so a 50k vocabulary takes well under a millisecond.
/// </summary>
public sealed class JsonObjectConstraint(TokenByteTable tokens, IReadOnlyCollection<int> endTokens) : ITokenConstraint
{
    private JsonByteGrammar _grammar;

    /// <summary>Whether the object has closed (only an end token may follow).</summary>
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
        for (int id = 0; id < count; id++)
            if (!Allows(_grammar, tokens[id])) scores[id] = float.NegativeInfinity;
        scores[count..].Fill(float.NegativeInfinity);
    }

    /// <inheritdoc />
    public void Accept(int token)
    {
        if (_grammar.IsComplete) return; // an end token
        foreach (byte b in tokens[token])
            if (!_grammar.Feed(b)) throw new InvalidOperationException($"token {token} does not continue the JSON object");
    }

    private static bool Allows(JsonByteGrammar grammar, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return false;
        foreach (byte b in bytes)
            if (!grammar.Feed(b)) return false;
        return true;
    }
}
