namespace Dclm.Rag.Documents;

/// <summary>One document to index: its text and where it came from.</summary>
/// <param name="Source">What search results name: the file path, or the JSONL record's id.</param>
/// <param name="File">The file it was read from (a JSONL file holds many documents).</param>
/// <param name="Text">Plain text: the file itself, HTML's extracted main content, a JSONL record's "text".</param>
public sealed record SourceDocument(string Source, string File, string Text);
