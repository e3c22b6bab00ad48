namespace Dclm.Inference.Constraints;

/// <summary>
/// RFC 8259 JSON read one byte at a time, as a small value type so that trying a token's bytes is a copy and
/// a loop: objects and arrays nest up to <see cref="MaxDepth"/>, strings must be UTF-8 without control
/// characters, numbers follow the grammar exactly, and runs of whitespace between tokens are capped at
/// <see cref="MaxWhitespace"/> bytes so a constrained model cannot pad forever. The document must be an
/// object (OpenAI's JSON mode); once it closes, no byte is accepted.
/// </summary>
public struct JsonByteGrammar : IByteGrammar
{
    public const int MaxDepth = 32;
    public const int MaxWhitespace = 24;

    private enum Mode : byte
    {
        Start, Value, FirstValueOrClose, FirstKeyOrClose, Key, Colon, AfterValue,
        String, Escape, Unicode, Literal,
        Minus, Zero, Integer, Dot, Fraction, Exponent, ExponentSign, ExponentDigits,
        Done,
    }

    private static readonly byte[][] Literals = ["true"u8.ToArray(), "false"u8.ToArray(), "null"u8.ToArray()];

    private ulong _objects; // bit i: level i is an object (else an array)
    private int _depth;
    private Mode _mode;
    private bool _key; // the string being read is an object key
    private byte _aux; // hex digits left in \uXXXX, or the literal's index
    private byte _literal, _utf8Pending, _whitespace;

    /// <summary>Whether the top-level object has closed.</summary>
    public readonly bool IsComplete => _mode == Mode.Done;

    /// <summary>Reads one byte; false (and the state is then undefined) when JSON cannot continue with it.</summary>
    public bool Feed(byte b)
    {
        if (_mode >= Mode.Minus && _mode <= Mode.ExponentDigits)
        {
            if (Number(b)) return true;
            if (_mode is not (Mode.Zero or Mode.Integer or Mode.Fraction or Mode.ExponentDigits)) return false;
            ValueDone(); // the byte ends the number and is read after it
        }
        switch (_mode)
        {
            case Mode.String: return StringByte(b);
            case Mode.Escape:
                if (b == 'u') { (_mode, _aux) = (Mode.Unicode, 4); return true; }
                _mode = Mode.String;
                return b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t';
            case Mode.Unicode:
                if (!char.IsAsciiHexDigit((char)b)) return false;
                if (--_aux == 0) _mode = Mode.String;
                return true;
            case Mode.Literal:
                if (b != Literals[_literal][_aux]) return false;
                if (++_aux == Literals[_literal].Length) ValueDone();
                return true;
            case Mode.Done: return false;
        }
        if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r') return ++_whitespace <= MaxWhitespace;
        _whitespace = 0;
        switch (_mode)
        {
            case Mode.Start: return b == '{' && Open(true);
            case Mode.FirstKeyOrClose:
                if (b == '}') return Close();
                goto case Mode.Key;
            case Mode.Key:
                if (b != '"') return false;
                (_mode, _key) = (Mode.String, true);
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

    private bool ValueStart(byte b)
    {
        switch (b)
        {
            case (byte)'{': return Open(true);
            case (byte)'[': return Open(false);
            case (byte)'"': (_mode, _key) = (Mode.String, false); return true;
            case (byte)'-': _mode = Mode.Minus; return true;
            case (byte)'0': _mode = Mode.Zero; return true;
            case >= (byte)'1' and <= (byte)'9': _mode = Mode.Integer; return true;
            case (byte)'t': (_mode, _literal, _aux) = (Mode.Literal, 0, 1); return true;
            case (byte)'f': (_mode, _literal, _aux) = (Mode.Literal, 1, 1); return true;
            case (byte)'n': (_mode, _literal, _aux) = (Mode.Literal, 2, 1); return true;
            default: return false;
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

    private bool StringByte(byte b)
    {
        if (_utf8Pending > 0)
        {
            if ((b & 0xC0) != 0x80) return false;
            _utf8Pending--;
            return true;
        }
        switch (b)
        {
            case (byte)'"':
                if (_key) _mode = Mode.Colon;
                else ValueDone();
                return true;
            case (byte)'\\': _mode = Mode.Escape; return true;
            case < 0x20: return false;
            case < 0x80: return true;
            case >= 0xC2 and <= 0xDF: _utf8Pending = 1; return true;
            case >= 0xE0 and <= 0xEF: _utf8Pending = 2; return true;
            case >= 0xF0 and <= 0xF4: _utf8Pending = 3; return true;
            default: return false;
        }
    }

    /// <summary>Continues a number with <paramref name="b"/>; false when the byte is not part of it.</summary>
    private bool Number(byte b)
    {
        bool digit = b is >= (byte)'0' and <= (byte)'9';
        Mode next = _mode switch
        {
            Mode.Minus => b == '0' ? Mode.Zero : digit ? Mode.Integer : Mode.Start,
            Mode.Zero => b == '.' ? Mode.Dot : b is (byte)'e' or (byte)'E' ? Mode.Exponent : Mode.Start,
            Mode.Integer => digit ? Mode.Integer : b == '.' ? Mode.Dot : b is (byte)'e' or (byte)'E' ? Mode.Exponent : Mode.Start,
            Mode.Dot => digit ? Mode.Fraction : Mode.Start,
            Mode.Fraction => digit ? Mode.Fraction : b is (byte)'e' or (byte)'E' ? Mode.Exponent : Mode.Start,
            Mode.Exponent => b is (byte)'+' or (byte)'-' ? Mode.ExponentSign : digit ? Mode.ExponentDigits : Mode.Start,
            Mode.ExponentSign or Mode.ExponentDigits => digit ? Mode.ExponentDigits : Mode.Start,
            _ => Mode.Start,
        };
        if (next == Mode.Start) return false; // Start never follows a number: it marks "not part of it"
        _mode = next;
        return true;
    }
}
