namespace Dclm.Tokenizers;

/// <summary>
/// GPT-2's reversible map between the 256 byte values and 256 printable characters. Bytes that are
/// already printable Latin-1 (33..126, 161..172, 174..255) stand for themselves; the other 68 bytes
/// are assigned U+0100, U+0101, ... in byte order, so that no piece of a BPE vocabulary contains a
/// space or control character (space becomes 'Ġ' U+0120, newline 'Ċ' U+010A).
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] byteToCharacter = BuildByteToCharacter();
    private static readonly Dictionary<char, byte> characterToByte = BuildCharacterToByte();

    public static char CharacterOf(byte value) => byteToCharacter[value];

    /// <summary>Maps UTF-8 bytes to the alphabet's characters.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        Span<char> characters = bytes.Length <= 512 ? stackalloc char[bytes.Length] : new char[bytes.Length];
        for (int index = 0; index < bytes.Length; index++)
        {
            characters[index] = byteToCharacter[bytes[index]];
        }
        return new string(characters);
    }

    /// <summary>Maps alphabet characters back to bytes; false when some character is outside the alphabet.</summary>
    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        for (int index = 0; index < text.Length; index++)
        {
            if (!characterToByte.TryGetValue(text[index], out bytes[index]))
            {
                bytes = [];
                return false;
            }
        }
        return true;
    }

    private static char[] BuildByteToCharacter()
    {
        var map = new char[256];
        int next = 256;
        for (int value = 0; value < 256; value++)
        {
            bool printable = (value >= 33 && value <= 126) || (value >= 161 && value <= 172) || (value >= 174 && value <= 255);
            map[value] = printable ? (char)value : (char)next++;
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharacterToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (int value = 0; value < 256; value++)
        {
            map[byteToCharacter[value]] = (byte)value;
        }
        return map;
    }
}
