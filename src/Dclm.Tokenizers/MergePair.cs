namespace Dclm.Tokenizers;

/// <summary>
/// One BPE merge rule, "<see cref="Left"/> <see cref="Right"/>", naming the two tokens whose
/// concatenation (also a token) replaces them. Rules are listed by priority: the first rule is rank 0.
/// </summary>
public readonly record struct MergePair(string Left, string Right)
{
    /// <summary>The rule as tokenizer.json and GGUF write it: both tokens separated by one space.</summary>
    public override string ToString() => Left + " " + Right;
}
