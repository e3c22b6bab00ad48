namespace Dclm.Chat;

/// <summary>Streaming text readers hold back a tail that could still grow into a marker they look for.</summary>
internal static class PartialMarker
{
    /// <summary>The length of the longest proper prefix of <paramref name="marker"/> that <paramref name="text"/> ends with.</summary>
    public static int Length(string text, string marker)
    {
        for (int length = Math.Min(marker.Length - 1, text.Length); length > 0; length--)
            if (marker.AsSpan(0, length).SequenceEqual(text.AsSpan(text.Length - length))) return length;
        return 0;
    }
}
