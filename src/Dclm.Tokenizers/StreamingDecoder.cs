using System.Buffers;
using System.Text;

namespace Dclm.Tokenizers;

/// <summary>
/// Decodes generated ids one at a time. Each call returns only complete UTF-8 text: the bytes of a
/// character split across tokens (an emoji as two byte tokens, say) are held back until the character
/// is complete. <see cref="Flush()"/> returns whatever is still held (as U+FFFD if it never completed).
/// Concatenating every returned string gives the same text as <see cref="Tokenizer.Decode"/> on the
/// whole id sequence whenever the bytes are valid UTF-8. Not thread-safe; use one per sequence.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly Tokenizer tokenizer;
    private readonly bool skipSpecialTokens;
    private readonly List<byte> pending;
    private bool atStart = true;

    internal StreamingDecoder(Tokenizer tokenizer, bool skipSpecialTokens)
    {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
        // At most three bytes of an unfinished character wait for the next id, so this never grows.
        pending = new List<byte>(tokenizer.LongestTokenBytes + 3);
    }

    /// <summary>Adds one id and returns the text that became complete (often empty). Throws <see cref="ArgumentOutOfRangeException"/> for an id outside the vocabulary.</summary>
    public string Append(int id)
    {
        int complete = AppendBytes(id);
        if (complete == 0)
        {
            return string.Empty;
        }
        string text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending)[..complete]);
        pending.RemoveRange(0, complete);
        return text;
    }

    /// <summary>
    /// Adds one id and writes the text that became complete (often none) to <paramref name="destination"/>: the same
    /// characters <see cref="Append(int)"/> returns, without making a string, so a server's decode loop allocates nothing.
    /// </summary>
    public void Append(int id, IBufferWriter<char> destination)
    {
        int complete = AppendBytes(id);
        if (complete > 0)
        {
            Write(complete, destination);
        }
    }

    /// <summary>Returns any held-back bytes (invalid ones as U+FFFD) and resets for a new sequence.</summary>
    public string Flush()
    {
        string text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending));
        Reset();
        return text;
    }

    /// <summary>Writes any held-back bytes (invalid ones as U+FFFD) to <paramref name="destination"/> and resets for a new sequence.</summary>
    public void Flush(IBufferWriter<char> destination)
    {
        Write(pending.Count, destination);
        Reset();
    }

    // Adds the id's bytes to the pending ones and returns how many of them end on a character boundary.
    private int AppendBytes(int id)
    {
        tokenizer.AppendBytes(id, skipSpecialTokens, pending);
        if (atStart && pending.Count > 0)
        {
            atStart = false;
            if (tokenizer.StripsLeadingSpace && pending[0] == (byte)' ')
            {
                pending.RemoveAt(0);
            }
        }
        return CompletePrefixLength(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending));
    }

    // Decodes the first `count` pending bytes into the destination and drops them.
    private void Write(int count, IBufferWriter<char> destination)
    {
        var bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending)[..count];
        var span = destination.GetSpan(Encoding.UTF8.GetMaxCharCount(count));
        destination.Advance(Encoding.UTF8.GetChars(bytes, span));
        pending.RemoveRange(0, count);
    }

    /// <summary>Discards held-back bytes and starts a new sequence.</summary>
    public void Reset()
    {
        pending.Clear();
        atStart = true;
    }

    // The length of the prefix that does not end inside an unfinished multi-byte sequence: look back at
    // most three bytes for a lead byte whose sequence needs more bytes than are present.
    private static int CompletePrefixLength(ReadOnlySpan<byte> bytes)
    {
        int length = bytes.Length;
        for (int back = 1; back <= Math.Min(3, length); back++)
        {
            byte value = bytes[length - back];
            if ((value & 0xC0) == 0x80)
            {
                continue;
            }
            int needed = value >= 0xF0 && value <= 0xF4 ? 4 : value >= 0xE0 && value < 0xF0 ? 3 : value >= 0xC2 && value < 0xE0 ? 2 : 1;
            return needed > back ? length - back : length;
        }
        return length;
    }
}
