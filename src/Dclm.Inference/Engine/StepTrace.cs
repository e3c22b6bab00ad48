namespace Dclm.Inference.Engine;

/// <summary>
/// A record of the engine's first steps, for tests that check what a step costs: per step, the tokens it ran, the
/// tokens it drew and the bytes the engine thread had allocated when it ended. Preallocated, so recording allocates
/// nothing; steps past its capacity are not recorded.
/// </summary>
internal sealed class StepTrace(int capacity)
{
    private readonly int[] _tokens = new int[capacity], _draws = new int[capacity];
    private readonly long[] _allocated = new long[capacity];

    /// <summary>Steps recorded.</summary>
    public int Count { get; private set; }

    public void Record(int tokens, int draws, long allocatedBytes)
    {
        if (Count == _tokens.Length) return;
        (_tokens[Count], _draws[Count], _allocated[Count]) = (tokens, draws, allocatedBytes);
        Count++;
    }

    /// <summary>Step <paramref name="step"/>'s tokens, draws and the engine thread's allocated bytes at its end.</summary>
    public (int Tokens, int Draws, long AllocatedBytes) this[int step] => (_tokens[step], _draws[step], _allocated[step]);
}
