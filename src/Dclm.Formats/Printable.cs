using System.Text;

namespace Dclm.Formats;

/// <summary>
/// Makes text taken from an untrusted file safe to put in a one-line error message: control characters
/// are escaped and very long names are cut, so a corrupt name can neither break the line nor flood it.
/// </summary>
public static class Printable
{
    /// <summary>Longest name shown in full.</summary>
    public const int MaximumLength = 120;

    /// <summary>
    /// <paramref name="text"/> with control characters written as <c>\xNN</c> (or <c>\uNNNN</c>) and anything
    /// past <see cref="MaximumLength"/> characters replaced by "...".
    /// </summary>
    public static string Text(string text)
    {
        bool clean = text.Length <= MaximumLength;
        foreach (char character in text)
            if (char.IsControl(character)) { clean = false; break; }
        if (clean) return text;

        var builder = new StringBuilder(Math.Min(text.Length, MaximumLength) + 8);
        foreach (char character in text)
        {
            if (builder.Length >= MaximumLength)
            {
                builder.Append("...");
                break;
            }
            if (!char.IsControl(character)) builder.Append(character);
            else if (character < 0x100) builder.Append($"\\x{(int)character:x2}");
            else builder.Append($"\\u{(int)character:x4}");
        }
        return builder.ToString();
    }
}
