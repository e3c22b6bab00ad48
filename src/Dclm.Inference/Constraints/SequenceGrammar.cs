using System.Text;

namespace Dclm.Inference.Constraints;

/// <summary>One part of a <see cref="SequenceGrammar"/>: literal text, one of several literal texts, or a JSON object.</summary>
public sealed class GrammarPart
{
    private GrammarPart(byte[][] texts, bool json) => (Texts, IsJsonObject) = (texts, json);

    internal byte[][] Texts { get; }
    internal bool IsJsonObject { get; }

    /// <summary>Exactly <paramref name="text"/>.</summary>
    public static GrammarPart Literal(string text) => new([Encoding.UTF8.GetBytes(text)], false);

    /// <summary>
    /// One of <paramref name="texts"/> (at most 128). The part after it must start with a byte that no
    /// alternative continues with, so where an alternative ends is never in doubt.
    /// </summary>
    public static GrammarPart OneOf(IReadOnlyList<string> texts)
    {
        if (texts.Count is 0 or > 128) throw new ArgumentException("between 1 and 128 alternatives are needed", nameof(texts));
        return new(texts.Select(t => Encoding.UTF8.GetBytes(t)).ToArray(), false);
    }

    /// <summary>Any JSON object (<see cref="JsonByteGrammar"/>).</summary>
    public static GrammarPart JsonObject() => new([], true);
}

/// <summary>
/// Parts read one after another (<see cref="GrammarPart"/>), for replies whose shape is fixed around a JSON
/// object, such as a function call forced by <c>tool_choice</c>.
/// </summary>
public struct SequenceGrammar(IReadOnlyList<GrammarPart> parts) : IByteGrammar
{
    private int _part;
    private AlternativesReader _text = new();
    private JsonByteGrammar _json;

    /// <inheritdoc />
    public readonly bool IsComplete => _part == parts.Count;

    /// <inheritdoc />
    public bool Feed(byte b)
    {
        while (_part < parts.Count)
        {
            var part = parts[_part];
            if (part.IsJsonObject)
            {
                if (!_json.Feed(b)) return false;
                if (_json.IsComplete) Next();
                return true;
            }
            switch (_text.Feed(b, part.Texts))
            {
                case ScalarStep.Continue: return true;
                case ScalarStep.Closed: Next(); return true;
                case ScalarStep.EndedBefore: Next(); continue; // an alternative ended here; the byte belongs to the next part
                default: return false;
            }
        }
        return false;
    }

    private void Next() => (_part, _text, _json) = (_part + 1, new AlternativesReader(), default);
}
