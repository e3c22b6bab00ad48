using System.Text;

namespace Dclm.Inference.Constraints;

/// <summary>One part of a <see cref="SequenceGrammar"/>: literal text, one of several literal texts, or a JSON object.</summary>
public sealed class GrammarPart
{
    private GrammarPart(byte[][] texts, bool json, bool choice, IReadOnlyList<JsonSchemaProgram?>? schemas) =>
        (Texts, IsJsonObject, IsChoice, Schemas) = (texts, json, choice, schemas);

    internal byte[][] Texts { get; }
    internal bool IsJsonObject { get; }
    internal bool IsChoice { get; }
    internal IReadOnlyList<JsonSchemaProgram?>? Schemas { get; }

    /// <summary>Exactly <paramref name="text"/>.</summary>
    public static GrammarPart Literal(string text) => new([Encoding.UTF8.GetBytes(text)], false, false, null);

    /// <summary>
    /// One of <paramref name="texts"/> (at most 128). The part after it must start with a byte that no
    /// alternative continues with, so where an alternative ends is never in doubt. A later JSON object part
    /// may depend on which one was read.
    /// </summary>
    public static GrammarPart OneOf(IReadOnlyList<string> texts)
    {
        if (texts.Count is 0 or > 128) throw new ArgumentException("between 1 and 128 alternatives are needed", nameof(texts));
        return new(texts.Select(t => Encoding.UTF8.GetBytes(t)).ToArray(), false, true, null);
    }

    /// <summary>
    /// A JSON object: one that <c>schemas[i]</c> allows when the last <see cref="OneOf"/> read its alternative i
    /// and that schema is not null, else any object (<see cref="JsonByteGrammar"/>).
    /// </summary>
    public static GrammarPart JsonObject(IReadOnlyList<JsonSchemaProgram?>? schemas = null) => new([], true, false, schemas);
}

/// <summary>
/// Parts read one after another (<see cref="GrammarPart"/>), for replies whose shape is fixed around a JSON
/// object, such as a function call forced by <c>tool_choice</c>.
/// </summary>
public struct SequenceGrammar(IReadOnlyList<GrammarPart> parts) : IByteGrammar
{
    private int _part, _choice;
    private AlternativesReader _text = new();
    private JsonByteGrammar _json;
    private JsonSchemaGrammar _schema;
    private bool _bySchema;

    /// <inheritdoc />
    public readonly bool IsComplete => _part == parts.Count;

    /// <inheritdoc />
    public readonly bool InPlainString => _part < parts.Count && parts[_part].IsJsonObject && (_bySchema ? _schema.InPlainString : _json.InPlainString);

    /// <inheritdoc />
    public bool Feed(byte b)
    {
        while (_part < parts.Count)
        {
            var part = parts[_part];
            if (part.IsJsonObject)
            {
                bool complete;
                if (_bySchema)
                {
                    if (!_schema.Feed(b)) return false;
                    complete = _schema.IsComplete;
                }
                else
                {
                    if (!_json.Feed(b)) return false;
                    complete = _json.IsComplete;
                }
                if (complete) Next();
                return true;
            }
            switch (_text.Feed(b, part.Texts))
            {
                case ScalarStep.Continue: return true;
                case ScalarStep.Closed:
                    if (part.IsChoice) _choice = _text.Matched;
                    Next();
                    return true;
                case ScalarStep.EndedBefore: // an alternative ended here; the byte belongs to the next part
                    if (part.IsChoice) _choice = _text.Ended(part.Texts);
                    Next();
                    continue;
                default: return false;
            }
        }
        return false;
    }

    private void Next()
    {
        (_part, _text, _json) = (_part + 1, new AlternativesReader(), default);
        _bySchema = _part < parts.Count && parts[_part].Schemas?[_choice] is not null;
        if (_bySchema) _schema = parts[_part].Schemas![_choice]!.Start();
    }
}
