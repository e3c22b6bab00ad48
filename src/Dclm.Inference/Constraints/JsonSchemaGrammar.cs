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
    // The innermost scalar's reading.
    private bool _opened; // a string's opening quote was read
    private JsonStringReader _string;
    private JsonNumberReader _number;
    private AlternativesReader _alternatives;

    internal JsonSchemaGrammar(JsonSchemaProgram program)
    {
        _program = program;
        Push(0);
    }

    /// <inheritdoc />
    public readonly bool IsComplete => _depth == 0;

    /// <inheritdoc />
    public readonly bool InPlainString => _depth > 0 && _program.Nodes[Node].Kind == JsonSchemaProgram.Kind.String && _opened && _string.IsPlain;

    private void Push(int node)
    {
        if (_depth == JsonSchemaProgram.MaxDepth + 2) throw new InvalidOperationException("schema frames overflow");
        _frames[_depth++] = (long)node << 32;
        (_opened, _string, _alternatives) = (false, default, new AlternativesReader());
        _number = new JsonNumberReader(integer: _program.Nodes[node].Kind == JsonSchemaProgram.Kind.Integer);
    }

    /// <summary>Ends the innermost value; its parent reads on with a fresh alternatives reader (an object choosing its next key).</summary>
    private void Pop()
    {
        _depth--;
        _alternatives = new AlternativesReader();
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
                case JsonSchemaProgram.Kind.Object:
                {
                    // Item 0: before '{'; then 1 + the place (2 × properties passed + 1 if any was written),
                    // where the next key (or the close) is read by the alternatives reader.
                    if (Item == 0)
                    {
                        if (b != '{') return false;
                        Set(1, 0);
                        _alternatives = new AlternativesReader();
                        return true;
                    }
                    var (texts, targets) = node.Choices[Item - 1];
                    var step = _alternatives.Feed(b, texts);
                    if (step == ScalarStep.Closed)
                    {
                        int property = targets[_alternatives.Matched];
                        if (property < 0) Pop();
                        else
                        {
                            Set(1 + (property + 1) * 2 + 1, 0);
                            Push(node.Properties[property]);
                        }
                    }
                    return step is ScalarStep.Continue or ScalarStep.Closed; // no key or "}" is a prefix of another
                }
                case JsonSchemaProgram.Kind.Array:
                    // Item: 0 before '[', 1 after '[', 2 after an element, 3 after ',', 4 after ", ".
                    switch (Item)
                    {
                        case 0: if (b != '[') return false; Set(1, 0); return true;
                        case 1 when b == ']': Pop(); return true;
                        case 1 or 4: Set(2, 0); Push(node.Child); continue;
                        case 2 when b == ',': Set(3, 0); return true;
                        case 2 when b == ']': Pop(); return true;
                        case 2: return false;
                        default: if (b != ' ') return false; Set(4, 0); return true;
                    }
                case JsonSchemaProgram.Kind.Union:
                {
                    int chosen = -1;
                    foreach (int branch in node.Branches)
                        if (_program.Nodes[branch].Starts[b]) chosen = branch;
                    if (chosen < 0) return false;
                    Pop();
                    Push(chosen);
                    continue;
                }
                case JsonSchemaProgram.Kind.String:
                {
                    if (!_opened) return _opened = b == '"';
                    var step = _string.Feed(b);
                    if (step == ScalarStep.Closed) Pop();
                    return step != ScalarStep.Reject;
                }
                case JsonSchemaProgram.Kind.Number or JsonSchemaProgram.Kind.Integer:
                {
                    var step = _number.Feed(b);
                    if (step != ScalarStep.EndedBefore) return step == ScalarStep.Continue;
                    Pop(); // the number ended before this byte, which belongs to the parent
                    continue;
                }
                default:
                {
                    var step = _alternatives.Feed(b, node.Alternatives);
                    if (step == ScalarStep.Closed) Pop();
                    if (step != ScalarStep.EndedBefore) return step != ScalarStep.Reject;
                    Pop();
                    continue;
                }
            }
        }
        return false;
    }
}
