namespace Dclm.Inference.Constraints;

/// <summary>OpenAI's JSON mode: the reply is one JSON object (<see cref="JsonByteGrammar"/>), then an end token.</summary>
public sealed class JsonObjectConstraint(TokenByteTable tokens, IReadOnlyCollection<int> endTokens)
    : ByteGrammarConstraint<JsonByteGrammar>(tokens, endTokens, default);
