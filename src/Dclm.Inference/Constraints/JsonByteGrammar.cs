namespace Dclm.Inference.Constraints;

/// <summary>
/// RFC 8259 JSON read one byte at a time, as a small value type so that trying a token's bytes is a copy and
/// a loop: objects and arrays nest up to <see cref="MaxDepth"/>, strings must be UTF-8 without control
/// characters, and numbers follow the grammar exactly. The document must be an object (OpenAI's JSON mode),
/// starting at its '{'; once it closes, no byte is accepted.
/// </summary>
/// <remarks>
/// Whitespace is bounded at each point as llama.cpp's JSON grammar (grammars/json.gbnf) bounds it,
/// <c>ws ::= | " " | "\n" [ \t]{0,20}</c>: nothing, one space, or one newline and an indent of at most
/// <see cref="MaxIndent"/> spaces or tabs, between the tokens of the object and not before it. A model that
/// would rather pad than write must then write, so a short constrained reply still makes progress toward a
/// complete object.
/// </remarks>
public struct JsonByteGrammar : IByteGrammar
{
    public const int MaxDepth = 32;

    /// <summary>Most spaces or tabs after the one newline a run of whitespace may hold.</summary>
    public const int MaxIndent = 20;

    // _whitespace: 0 before any whitespace at this point, 1 + n after a newline and n indent characters,
    // SpaceTaken after a single space (the run is over).
    private const byte SpaceTaken = byte.MaxValue;

    private enum Mode : byte { Start, Value, FirstValueOrClose, FirstKeyOrClose, Key, Colon, AfterValue, String, Number, Literal, Done }

    private static readonly byte[][][] Literals = [["true"u8.ToArray()], ["false"u8.ToArray()], ["null"u8.ToArray()]];

    private ulong _objects; // bit i: level i is an object (else an array)
    private int _depth;
    private Mode _mode;
    private bool _key; // the string being read is an object key
    private byte _literal, _whitespace;
    private JsonStringReader _string;
    private JsonNumberReader _number;
    private AlternativesReader _literalReader;

    /// <summary>Whether the top-level object has closed.</summary>
    public readonly bool IsComplete => _mode == Mode.Done;

    /// <inheritdoc />
    public readonly bool InPlainString => _mode == Mode.String && _string.IsPlain;

    /// <summary>Reads one byte; false (and the state is then undefined) when JSON cannot continue with it.</summary>
    public bool Feed(byte b)
    {
        if (_mode == Mode.Number)
        {
            var step = _number.Feed(b);
            if (step != ScalarStep.EndedBefore) return step == ScalarStep.Continue;
            ValueDone(); // the byte ends the number and is read after it
        }
        switch (_mode)
        {
            case Mode.String:
                var text = _string.Feed(b);
                if (text == ScalarStep.Closed)
                {
                    if (_key) _mode = Mode.Colon;
                    else ValueDone();
                }
                return text != ScalarStep.Reject;
            case Mode.Literal:
                var literal = _literalReader.Feed(b, Literals[_literal]);
                if (literal == ScalarStep.Closed) ValueDone();
                return literal is ScalarStep.Continue or ScalarStep.Closed;
            case Mode.Done: return false;
        }
        if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r') return _mode != Mode.Start && Whitespace(b);
        _whitespace = 0;
        switch (_mode)
        {
            case Mode.Start: return b == '{' && Open(true);
            case Mode.FirstKeyOrClose:
                if (b == '}') return Close();
                goto case Mode.Key;
            case Mode.Key:
                if (b != '"') return false;
                (_mode, _key, _string) = (Mode.String, true, default);
                return true;
            case Mode.Colon:
                if (b != ':') return false;
                _mode = Mode.Value;
                return true;
            case Mode.FirstValueOrClose:
                if (b == ']') return Close();
                goto case Mode.Value;
            case Mode.Value: return ValueStart(b);
            case Mode.AfterValue:
                bool inObject = (_objects >> (_depth - 1) & 1) != 0;
                if (b == ',') { _mode = inObject ? Mode.Key : Mode.Value; return true; }
                return b == (inObject ? '}' : ']') && Close();
            default: return false;
        }
    }

    private bool Whitespace(byte b)
    {
        switch (_whitespace)
        {
            case 0 when b == ' ':
                _whitespace = SpaceTaken;
                return true;
            case 0 when b == '\n':
                _whitespace = 1;
                return true;
            case > 0 and <= MaxIndent when b is (byte)' ' or (byte)'\t':
                _whitespace++;
                return true;
            default:
                return false;
        }
    }

    private bool ValueStart(byte b)
    {
        switch (b)
        {
            case (byte)'{': return Open(true);
            case (byte)'[': return Open(false);
            case (byte)'"': (_mode, _key, _string) = (Mode.String, false, default); return true;
            case (byte)'t' or (byte)'f' or (byte)'n':
                (_mode, _literal, _literalReader) = (Mode.Literal, b == 't' ? (byte)0 : b == 'f' ? (byte)1 : (byte)2, new AlternativesReader());
                return _literalReader.Feed(b, Literals[_literal]) == ScalarStep.Continue;
            default:
                if (!JsonNumberReader.Starts(b)) return false;
                (_mode, _number) = (Mode.Number, new JsonNumberReader(integer: false));
                return _number.Feed(b) == ScalarStep.Continue;
        }
    }

    private bool Open(bool isObject)
    {
        if (_depth == MaxDepth) return false;
        if (isObject) _objects |= 1UL << _depth;
        else _objects &= ~(1UL << _depth);
        _depth++;
        _mode = isObject ? Mode.FirstKeyOrClose : Mode.FirstValueOrClose;
        return true;
    }

    private bool Close()
    {
        _depth--;
        ValueDone();
        return true;
    }

    private void ValueDone() => _mode = _depth == 0 ? Mode.Done : Mode.AfterValue;
}
