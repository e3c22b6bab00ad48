namespace Dclm.Tokenizers;

/// <summary>Where a SentencePiece vocabulary with <see cref="TokenizerVocabulary.AddPrefixSpace"/> prepends its '▁'.</summary>
public enum DummyPrefixRule
{
    /// <summary>
    /// Before every text fragment (the whole text, and text after each added token), as llama.cpp and
    /// Hugging Face's legacy <c>Prepend</c> normalizer do, even when the fragment starts with a space.
    /// </summary>
    EveryFragment,

    /// <summary>Before every fragment that does not already start with a space (tokenizer.json Metaspace, scheme "always").</summary>
    EveryFragmentWithoutSpace,

    /// <summary>Only before a fragment at the very start of the text that does not start with a space (Metaspace, scheme "first").</summary>
    TextStartWithoutSpace,
}
