namespace Dclm.Chat.Jinja;

/// <summary>
/// A Python generator, which Jinja2's <c>map</c>, <c>select</c>, <c>reject</c>, <c>selectattr</c>, <c>rejectattr</c>,
/// <c>unique</c>, <c>items</c> and <c>reverse</c> (of a list) return: evaluated lazily and iterable once (what one loop
/// takes, the next does not see), always true, with no length, no index and no JSON form. <c>|list</c> makes a list of it.
/// </summary>
internal sealed class JinjaGenerator(IEnumerable<object?> items)
{
    private readonly IEnumerator<object?> _items = items.GetEnumerator();

    /// <summary>The items not yet taken, taken as they are read.</summary>
    public IEnumerable<object?> Remaining()
    {
        while (_items.MoveNext()) yield return _items.Current;
    }
}

/// <summary>
/// A method read as an attribute without calling it (<c>spec.items</c> on a mapping is the mapping's <c>items</c>
/// method in Jinja2, even when the mapping has an "items" key): true, callable, with no attributes of its own.
/// </summary>
internal sealed record JinjaMethod(object Target, string Name)
{
    /// <summary>The methods of a mapping and of a string, which attribute access finds before a mapping's keys.</summary>
    public static bool Exists(object target, string name) => target switch
    {
        Dictionary<string, object?> and not Namespace => name is "items" or "keys" or "values" or "get" or "pop" or "popitem" or "setdefault" or "update"
            or "copy" or "clear" or "fromkeys",
        JinjaText => name is "strip" or "lstrip" or "rstrip" or "upper" or "lower" or "title" or "capitalize" or "startswith" or "endswith" or "replace"
            or "split" or "find" or "count" or "join" or "format" or "center" or "ljust" or "rjust" or "rsplit" or "splitlines" or "index" or "isdigit"
            or "isalpha" or "isalnum" or "isspace" or "islower" or "isupper" or "zfill" or "casefold" or "swapcase" or "partition" or "rpartition",
        _ => false,
    };
}
