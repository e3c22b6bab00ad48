namespace Dclm.Fuzz;

/// <summary>GPT-2's printable byte alphabet (printable Latin-1 bytes stand for themselves, the rest for U+0100 onwards), for seed vocabularies.</summary>
internal static class Gpt2Bytes
{
    public static char CharacterOf(byte value)
    {
        static bool Printable(int b) => b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
        if (Printable(value)) return (char)value;
        int shifted = 0;
        for (int b = 0; b < value; b++) if (!Printable(b)) shifted++;
        return (char)(256 + shifted);
    }
}
