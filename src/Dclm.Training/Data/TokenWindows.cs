namespace Dclm.Training.Data;

/// <summary>
/// A token stream cut into non-overlapping windows of <see cref="WindowLength"/> tokens (sequence + 1:
/// inputs are a window's first T tokens, targets its last T).
/// </summary>
public sealed class TokenWindows
{
    private readonly int[] _tokens;
    private readonly int _first;

    public TokenWindows(string name, int[] tokens, int windowLength, int firstWindow = 0, int? windowCount = null)
    {
        if (windowLength < 2) throw new ArgumentOutOfRangeException(nameof(windowLength), "a window needs at least two tokens");
        Name = Source = name;
        _tokens = tokens;
        WindowLength = windowLength;
        _first = firstWindow;
        Count = windowCount ?? tokens.Length / windowLength - firstWindow;
        if (_first < 0 || Count < 0 || (long)(_first + Count) * windowLength > tokens.Length) throw new ArgumentOutOfRangeException(nameof(windowCount), "windows outside the token stream");
    }

    /// <summary>Source name, for messages and metrics.</summary>
    public string Name { get; }
    /// <summary>The data source these windows come from (a held-out set keeps its source's name here).</summary>
    public string Source { get; private init; }
    /// <summary>Tokens per window.</summary>
    public int WindowLength { get; }
    /// <summary>Number of windows.</summary>
    public int Count { get; }

    /// <summary>Window <paramref name="index"/>. (WindowLength)</summary>
    public ReadOnlySpan<int> this[int index] => (uint)index < (uint)Count
        ? _tokens.AsSpan((_first + index) * WindowLength, WindowLength)
        : throw new ArgumentOutOfRangeException(nameof(index), $"window {index} of {Count} in {Name}");

    /// <summary>Splits off the last <paramref name="heldOut"/> windows: (training, validation).</summary>
    public (TokenWindows Training, TokenWindows Validation) Split(int heldOut)
    {
        heldOut = Math.Clamp(heldOut, 0, Count);
        return (new TokenWindows(Name, _tokens, WindowLength, _first, Count - heldOut),
                new TokenWindows(Name + " (validation)", _tokens, WindowLength, _first + Count - heldOut, heldOut) { Source = Source });
    }
}
