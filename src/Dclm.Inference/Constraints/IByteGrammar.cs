namespace Dclm.Inference.Constraints;

/// <summary>A grammar read one byte at a time, as a value type: trying a token is copying the state and feeding its bytes.</summary>
public interface IByteGrammar
{
    /// <summary>Reads one byte; false (and the state is then undefined) when the grammar cannot continue with it.</summary>
    bool Feed(byte b);

    /// <summary>Whether the text so far is complete (only an end token may follow).</summary>
    bool IsComplete { get; }

    /// <summary>
    /// Whether the grammar is inside a JSON string, past any escape or partial character, where any run of
    /// plain string bytes (<see cref="TokenByteTable.IsPlainString"/>) is accepted and leaves it so.
    /// </summary>
    bool InPlainString { get; }
}
