using System.Text;

namespace Dclm.Tokenizers;

/// <summary>The ids of the 256 <c>&lt;0xXX&gt;</c> byte-fallback tokens a SentencePiece vocabulary may have.</summary>
internal sealed class ByteTokenTable
{
    private readonly int[] ids = new int[256];
    private readonly int? unknownId;

    public ByteTokenTable(Dictionary<string, int> tokenToId, int? unknownId)
    {
        this.unknownId = unknownId;
        for (int value = 0; value < 256; value++)
        {
            ids[value] = tokenToId.TryGetValue(NameOf((byte)value), out int id) ? id : -1;
        }
    }

    public static string NameOf(byte value) => $"<0x{value:X2}>";

    /// <summary>The byte's own token, if the vocabulary has it.</summary>
    public bool TryGetId(byte value, out int id)
    {
        id = ids[value];
        return id >= 0;
    }

    /// <summary>
    /// Appends one token per UTF-8 byte of <paramref name="text"/>, as llama.cpp does for a code point that
    /// is not a piece; a missing byte token becomes the unknown token, or nothing without one.
    /// </summary>
    public void AppendBytesOf(ReadOnlySpan<char> text, List<int> output)
    {
        int maximum = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> bytes = maximum <= 256 ? stackalloc byte[maximum] : new byte[maximum];
        int written = Encoding.UTF8.GetBytes(text, bytes);
        foreach (byte value in bytes[..written])
        {
            if (TryGetId(value, out int id))
            {
                output.Add(id);
            }
            else if (unknownId is int unknown)
            {
                output.Add(unknown);
            }
        }
    }
}
