namespace Dclm.Inference.Constraints;

/// <summary>
/// JSON replies: one JSON object (<see cref="JsonObjectConstraint"/>), or one that a schema allows
/// (<see cref="JsonSchemaGrammar"/>), then an end token. The one place the choice is made, for <c>dclm generate</c>'s JSON
/// options and the server's <c>response_format</c>.
/// </summary>
public static class JsonReplyConstraint
{
    /// <summary>
    /// A new constraint per sequence over <paramref name="tokens"/>, ended by one of <paramref name="endTokens"/>: any JSON
    /// object when <paramref name="schema"/> is null, else one the schema allows.
    /// </summary>
    public static Func<ITokenConstraint> Factory(TokenByteTable tokens, IReadOnlyCollection<int> endTokens, JsonSchemaProgram? schema)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(endTokens);
        return schema is null
            ? () => new JsonObjectConstraint(tokens, endTokens)
            : () => new ByteGrammarConstraint<JsonSchemaGrammar>(tokens, endTokens, schema.Start());
    }
}
