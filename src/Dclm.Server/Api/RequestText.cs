using Dclm.Formats;

namespace Dclm.Server.Api;

/// <summary>
/// Refuses a request body holding a string that is not text (invalid UTF-8, or an unpaired surrogate escape
/// such as <c>"\ud800"</c>) before any field is read, naming the field: read later as a string it would fail
/// with an InvalidOperationException.
/// </summary>
internal static class RequestText
{
    /// <summary>Throws a 400 <see cref="ApiException"/> naming the first string that is not text; syntax errors are left to the deserializer.</summary>
    public static void Check(ReadOnlySpan<byte> body)
    {
        if (JsonStrings.FindNonText(body) is not { } found) return;
        string hint = found.IsInvalidUtf8 ? "; send text encoded as UTF-8" : "";
        throw ApiException.BadRequest(Printable.Text(found.ToString()) + hint, found.TopLevelField);
    }
}
