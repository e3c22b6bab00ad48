using Dclm.Formats;

namespace Dclm.Tokenizers;

/// <summary>
/// A tokenizer's own split pattern (from its tokenizer.json) took longer than its time limit on a text. The
/// pattern passed the load-time checks, so this is rare, but it ends the call instead of holding it; the
/// message names the tokenizer file, the pattern and the text length.
/// </summary>
public sealed class PreTokenizerTimeoutException(string filePath, string problem) : ModelFileException(filePath, problem);
