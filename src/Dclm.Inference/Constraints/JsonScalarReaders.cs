namespace Dclm.Inference.Constraints;

/// <summary>What a scalar reader made of a byte.</summary>
internal enum ScalarStep : byte
{
    /// <summary>The byte is not JSON here.</summary>
    Reject,
    /// <summary>The byte belongs to the value, which goes on.</summary>
    Continue,
    /// <summary>The byte closed the value (a string's closing quote).</summary>
    Closed,
    /// <summary>The value was complete before this byte, which belongs to what follows (a number's end).</summary>
    EndedBefore,
}

/// <summary>The inside of a JSON string after its opening quote: escapes, \uXXXX, UTF-8 sequences, no raw control characters.</summary>
internal struct JsonStringReader
{
    private byte _state; // 0 plain, 1 after a backslash, 2..5 hex digits of \uXXXX left (+1)
    private byte _pending; // UTF-8 continuation bytes still due

    /// <summary>Past any escape and partial character.</summary>
    public readonly bool IsPlain => _state == 0 && _pending == 0;

    public ScalarStep Feed(byte b)
    {
        if (_state == 1)
        {
            if (b == 'u') { _state = 5; return ScalarStep.Continue; }
            _state = 0;
            return b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t' ? ScalarStep.Continue : ScalarStep.Reject;
        }
        if (_state >= 2)
        {
            if (!char.IsAsciiHexDigit((char)b)) return ScalarStep.Reject;
            _state = _state == 2 ? (byte)0 : (byte)(_state - 1);
            return ScalarStep.Continue;
        }
        if (_pending > 0)
        {
            if ((b & 0xC0) != 0x80) return ScalarStep.Reject;
            _pending--;
            return ScalarStep.Continue;
        }
        switch (b)
        {
            case (byte)'"': return ScalarStep.Closed;
            case (byte)'\\': _state = 1; return ScalarStep.Continue;
            case < 0x20: return ScalarStep.Reject;
            case < 0x80: return ScalarStep.Continue;
            case >= 0xC2 and <= 0xDF: _pending = 1; return ScalarStep.Continue;
            case >= 0xE0 and <= 0xEF: _pending = 2; return ScalarStep.Continue;
            case >= 0xF0 and <= 0xF4: _pending = 3; return ScalarStep.Continue;
            default: return ScalarStep.Reject;
        }
    }
}

/// <summary>A JSON number from its first byte (<c>-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</c>), or an integer only.</summary>
internal struct JsonNumberReader(bool integer)
{
    // 0 start, 1 after '-', 2 a leading 0, 3 integer digits, 4 after '.', 5 fraction digits, 6 after 'e', 7 after its sign, 8 exponent digits.
    private byte _state;

    /// <summary>Whether <paramref name="b"/> can start a number.</summary>
    public static bool Starts(byte b) => b is (byte)'-' or >= (byte)'0' and <= (byte)'9';

    public ScalarStep Feed(byte b)
    {
        bool digit = b is >= (byte)'0' and <= (byte)'9';
        bool dot = !integer && b == '.', exponent = !integer && b is (byte)'e' or (byte)'E';
        byte next = _state switch
        {
            0 => b == '-' ? (byte)1 : b == '0' ? (byte)2 : digit ? (byte)3 : (byte)0,
            1 => b == '0' ? (byte)2 : digit ? (byte)3 : (byte)0,
            2 => dot ? (byte)4 : exponent ? (byte)6 : (byte)0,
            3 => digit ? (byte)3 : dot ? (byte)4 : exponent ? (byte)6 : (byte)0,
            4 => digit ? (byte)5 : (byte)0,
            5 => digit ? (byte)5 : exponent ? (byte)6 : (byte)0,
            6 => b is (byte)'+' or (byte)'-' ? (byte)7 : digit ? (byte)8 : (byte)0,
            _ => digit ? (byte)8 : (byte)0,
        };
        if (next != 0) { _state = next; return ScalarStep.Continue; }
        return _state is 2 or 3 or 5 or 8 ? ScalarStep.EndedBefore : ScalarStep.Reject;
    }
}

/// <summary>One of several byte strings (at most 128), read byte by byte; where one ends is decided by the byte after it when another extends it.</summary>
internal struct AlternativesReader
{
    private UInt128 _alive = UInt128.MaxValue;
    private int _offset;

    public AlternativesReader() { }

    /// <summary>The first alternative still matching (after <see cref="ScalarStep.Closed"/>, the one read).</summary>
    public readonly int Matched => (int)UInt128.TrailingZeroCount(_alive);

    /// <summary>After <see cref="ScalarStep.EndedBefore"/>: the alternative that ended just before the byte.</summary>
    public readonly int Ended(byte[][] alternatives)
    {
        for (int i = 0; i < alternatives.Length; i++)
            if ((_alive >> i & 1) != 0 && alternatives[i].Length == _offset) return i;
        return -1;
    }

    public ScalarStep Feed(byte b, byte[][] alternatives)
    {
        UInt128 continuing = 0;
        bool ended = false;
        for (int i = 0; i < alternatives.Length; i++)
        {
            if ((_alive >> i & 1) == 0) continue;
            if (_offset < alternatives[i].Length && alternatives[i][_offset] == b) continuing |= UInt128.One << i;
            else if (_offset == alternatives[i].Length) ended = true;
        }
        if (continuing == 0) return ended ? ScalarStep.EndedBefore : ScalarStep.Reject;
        _alive = continuing;
        _offset++;
        // Closed when every alternative still standing is whole now (none goes on).
        for (int i = 0; i < alternatives.Length; i++)
            if ((_alive >> i & 1) != 0 && alternatives[i].Length != _offset) return ScalarStep.Continue;
        return ScalarStep.Closed;
    }
}
