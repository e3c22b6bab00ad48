using System.Runtime.CompilerServices;

namespace Dclm.Inference.Constraints;

/// <summary>
/// Reads a reply byte by byte against a <see cref="JsonSchemaProgram"/>: a stack of frames (one per object,
/// array or value being read) held inline, so that trying a token is a copy of the state and a loop over its
/// bytes. Complete once the root object has closed.
/// </summary>
public struct JsonSchemaGrammar : IByteGrammar
{
    [InlineArray(JsonSchemaProgram.MaxDepth + 2)]
    private struct Frames { private long _first; }

    private readonly JsonSchemaProgram _program;
    private Frames _frames; // node << 32 | item << 16 | offset
    private int _depth;
    // The innermost scalar's reading: string escape/UTF-8 state, number state, or the alternatives still matching.
    private UInt128 _alive;
    private byte _scalar, _pending;

    internal JsonSchemaGrammar(JsonSchemaProgram program)
    {
        _program = program;
        Push(0);
    }

    /// <inheritdoc />
    public readonly bool IsComplete => _depth == 0;

    private void Push(int node)
    {
        if (_depth == JsonSchemaProgram.MaxDepth + 2) throw new InvalidOperationException("schema frames overflow");
        _frames[_depth++] = (long)node << 32;
        (_alive, _scalar, _pending) = (UInt128.MaxValue, 0, 0);
    }

    private readonly int Node => (int)(_frames[_depth - 1] >> 32);
    private readonly int Item => (int)(_frames[_depth - 1] >> 16 & 0xFFFF);
    private readonly int Offset => (int)(_frames[_depth - 1] & 0xFFFF);
    private void Set(int item, int offset) => _frames[_depth - 1] = (long)Node << 32 | (long)item << 16 | (uint)offset;

    /// <inheritdoc />
    public bool Feed(byte b)
    {
        while (_depth > 0)
        {
            var node = _program.Nodes[Node];
            switch (node.Kind)
            {
                case JsonSchemaProgram.Kind.Sequence:
                {
                    var (literal, child) = node.Items[Item];
                    if (literal is null)
                    {
                        Set(Item + 1, 0);
                        Push(child);
                        continue;
                    }
                    if (literal[Offset] != b) return false;
                    if (Offset + 1 < literal.Length) Set(Item, Offset + 1);
                    else if (Item + 1 < node.Items.Count) Set(Item + 1, 0);
                    else _depth--;
                    return true;
                }
                case JsonSchemaProgram.Kind.Array:
                    // Item: 0 before '[', 1 after '[', 2 after an element, 3 after ',', 4 after ", ".
                    switch (Item)
                    {
                        case 0: if (b != '[') return false; Set(1, 0); return true;
                        case 1 when b == ']': _depth--; return true;
                        case 1 or 4: Set(2, 0); Push(node.Child); continue;
                        case 2 when b == ',': Set(3, 0); return true;
                        case 2 when b == ']': _depth--; return true;
                        case 2: return false;
                        default: if (b != ' ') return false; Set(4, 0); return true;
                    }
                case JsonSchemaProgram.Kind.Union:
                {
                    int chosen = -1;
                    foreach (int branch in node.Branches)
                        if (_program.Nodes[branch].Starts[b]) chosen = branch;
                    if (chosen < 0) return false;
                    _depth--;
                    Push(chosen);
                    continue;
                }
                case JsonSchemaProgram.Kind.String: return StringByte(b);
                case JsonSchemaProgram.Kind.Number or JsonSchemaProgram.Kind.Integer:
                {
                    var result = NumberByte(b, node.Kind == JsonSchemaProgram.Kind.Integer);
                    if (result is not null) return result.Value;
                    _depth--; // the number ended before this byte, which belongs to the parent
                    continue;
                }
                default:
                {
                    var result = LiteralByte(b, node.Alternatives);
                    if (result is not null) return result.Value;
                    _depth--;
                    continue;
                }
            }
        }
        return false;
    }

    private bool StringByte(byte b)
    {
        // _scalar: 0 before the opening quote, 1 inside, 2 after a backslash, 3..6 hex digits left of \uXXXX (+2).
        switch (_scalar)
        {
            case 0: if (b != '"') return false; _scalar = 1; return true;
            case 2:
                if (b == 'u') { _scalar = 6; return true; }
                _scalar = 1;
                return b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t';
            case >= 3:
                if (!char.IsAsciiHexDigit((char)b)) return false;
                _scalar = _scalar == 3 ? (byte)1 : (byte)(_scalar - 1);
                return true;
        }
        if (_pending > 0)
        {
            if ((b & 0xC0) != 0x80) return false;
            _pending--;
            return true;
        }
        switch (b)
        {
            case (byte)'"': _depth--; return true;
            case (byte)'\\': _scalar = 2; return true;
            case < 0x20: return false;
            case < 0x80: return true;
            case >= 0xC2 and <= 0xDF: _pending = 1; return true;
            case >= 0xE0 and <= 0xEF: _pending = 2; return true;
            case >= 0xF0 and <= 0xF4: _pending = 3; return true;
            default: return false;
        }
    }

    /// <summary>True or false for a byte of the number; null when the number is complete and the byte is not part of it.</summary>
    private bool? NumberByte(byte b, bool integer)
    {
        // _scalar: 0 start, 1 after '-', 2 after a leading 0, 3 integer digits, 4 after '.', 5 fraction digits,
        // 6 after 'e', 7 after the exponent's sign, 8 exponent digits.
        bool digit = b is >= (byte)'0' and <= (byte)'9';
        byte next = _scalar switch
        {
            0 => b == '-' ? (byte)1 : b == '0' ? (byte)2 : digit ? (byte)3 : (byte)0,
            1 => b == '0' ? (byte)2 : digit ? (byte)3 : (byte)0,
            2 => !integer && b == '.' ? (byte)4 : !integer && b is (byte)'e' or (byte)'E' ? (byte)6 : (byte)0,
            3 => digit ? (byte)3 : !integer && b == '.' ? (byte)4 : !integer && b is (byte)'e' or (byte)'E' ? (byte)6 : (byte)0,
            4 => digit ? (byte)5 : (byte)0,
            5 => digit ? (byte)5 : b is (byte)'e' or (byte)'E' ? (byte)6 : (byte)0,
            6 => b is (byte)'+' or (byte)'-' ? (byte)7 : digit ? (byte)8 : (byte)0,
            _ => digit ? (byte)8 : (byte)0,
        };
        if (next != 0) { _scalar = next; return true; }
        return _scalar is 2 or 3 or 5 or 8 ? null : false;
    }

    /// <summary>True or false for a byte of one of the alternatives; null when one ended just before it.</summary>
    private bool? LiteralByte(byte b, byte[][] alternatives)
    {
        UInt128 continuing = 0;
        bool ended = false;
        for (int i = 0; i < alternatives.Length; i++)
        {
            if ((_alive >> i & 1) == 0) continue;
            if (_pending < alternatives[i].Length && alternatives[i][_pending] == b) continuing |= UInt128.One << i;
            else if (_pending == alternatives[i].Length) ended = true;
        }
        if (continuing != 0)
        {
            _alive = continuing;
            _pending++;
            // An alternative that is now whole and that none other extends ends here.
            bool longer = false, whole = false;
            for (int i = 0; i < alternatives.Length; i++)
                if ((_alive >> i & 1) != 0)
                {
                    if (alternatives[i].Length == _pending) whole = true;
                    else longer = true;
                }
            if (whole && !longer) _depth--;
            return true;
        }
        return ended ? null : false;
    }
}
