/*
 * Generates the app's R class from its resource files, for the desktop compile check only
 * (android/jvm-android). On an Android build machine, AGP's aapt2 makes the real R.
 *
 *   java GenerateR.java <res dir> <AndroidManifest.xml> <package> <out dir> [<resources.ap_> <android-all.jar>]
 *
 * Besides R.string / R.id / R.layout / R.drawable, it checks what aapt2 would refuse or what
 * would be wrong at run time, so a mistake fails the compile check too:
 *  - every translatable string exists in every values-* locale and in the default, and the
 *    format arguments (%1$s, %2$d, …) are the same in each;
 *  - no unescaped apostrophe, and no two non-positional arguments in one string (aapt2 errors);
 *  - every @string/ and @id/ reference in the manifest and the layouts exists.
 * The ids are made up (stable per name); this R is never packaged.
 *
 * With two more arguments it also writes a minimal resource APK, which Robolectric loads as
 * the app's resources in src/test: a binary resources.arsc holding the strings of every
 * locale and the ids (same ids as R), and the manifest compiled to binary XML (framework
 * attribute and resource ids read from the android-all jar; uses-sdk added as AGP would).
 * It covers what the app uses (strings, ids, the manifest's attributes), nothing else.
 */

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public final class GenerateR {
    private static final Pattern FORMAT = Pattern.compile("%(\\d+\\$)?[-#+ 0,(]*\\d*(\\.\\d+)?([a-zA-Z%])");
    private static final Pattern REFERENCE = Pattern.compile("@(\\+?)(string|id)/([A-Za-z0-9_]+)");

    private final List<String> errors = new ArrayList<>();
    /** type → names */
    private final Map<String, Set<String>> resources = new TreeMap<>();
    /** locale qualifier ("" = default) → string name → value */
    private final Map<String, Map<String, String>> strings = new TreeMap<>();
    private final Set<String> untranslatable = new TreeSet<>();

    public static void main(String[] args) throws Exception {
        if (args.length != 4 && args.length != 6) {
            System.err.println("usage: java GenerateR.java <res dir> <AndroidManifest.xml> <package> <out dir> [<resources.ap_> <android-all.jar>]");
            System.exit(2);
        }
        GenerateR gen = new GenerateR();
        File res = new File(args[0]);
        gen.scan(res);
        gen.checkStrings();
        gen.checkReferences(new File(args[1]));
        File[] layouts = new File(res, "layout").listFiles((d, n) -> n.endsWith(".xml"));
        if (layouts != null) for (File layout : layouts) gen.checkReferences(layout);
        if (!gen.errors.isEmpty()) {
            for (String e : gen.errors) System.err.println("GenerateR: " + e);
            System.exit(1);
        }
        gen.write(args[2], new File(args[3]));
        if (args.length == 6) gen.writeApk(args[2], new File(args[1]), new File(args[4]), new File(args[5]));
    }

    private void add(String type, String name) {
        resources.computeIfAbsent(type, t -> new TreeSet<>()).add(name);
    }

    private void scan(File res) throws Exception {
        File[] dirs = res.listFiles(File::isDirectory);
        if (dirs == null) throw new IOException("no resource directory " + res);
        for (File dir : dirs) {
            String name = dir.getName();
            File[] files = dir.listFiles(File::isFile);
            if (files == null) continue;
            if (name.equals("values") || name.startsWith("values-")) {
                String qualifier = name.equals("values") ? "" : name.substring("values-".length());
                for (File f : files) if (f.getName().endsWith(".xml")) scanValues(f, qualifier);
            } else {
                String type = name.contains("-") ? name.substring(0, name.indexOf('-')) : name;
                for (File f : files) {
                    String base = f.getName().replaceFirst("\\..*$", "");
                    add(type, base);
                    if (type.equals("layout")) collectIds(f);
                }
            }
        }
    }

    private static Document parse(File f) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        return factory.newDocumentBuilder().parse(f);
    }

    private void scanValues(File f, String qualifier) throws Exception {
        Element root = parse(f).getDocumentElement();
        NodeList children = root.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            if (!(children.item(i) instanceof Element e)) continue;
            String name = e.getAttribute("name");
            switch (e.getTagName()) {
                case "string" -> {
                    add("string", name);
                    if ("false".equals(e.getAttribute("translatable"))) untranslatable.add(name);
                    Map<String, String> locale = strings.computeIfAbsent(qualifier, q -> new TreeMap<>());
                    if (locale.put(name, e.getTextContent()) != null) errors.add(f + ": string " + name + " defined twice");
                }
                case "item" -> add(e.getAttribute("type"), name);
                case "string-array" -> add("array", name);
                case "plurals" -> add("plurals", name);
                case "color" -> add("color", name);
                case "dimen" -> add("dimen", name);
                case "style" -> add("style", name.replace('.', '_'));
                case "bool" -> add("bool", name);
                case "integer" -> add("integer", name);
                default -> errors.add(f + ": unsupported resource <" + e.getTagName() + ">");
            }
        }
    }

    private void collectIds(File layout) throws IOException {
        Matcher m = REFERENCE.matcher(Files.readString(layout.toPath(), StandardCharsets.UTF_8));
        while (m.find()) if (!m.group(1).isEmpty() && m.group(2).equals("id")) add("id", m.group(3));
    }

    private static List<String> formatArgs(String value) {
        List<String> args = new ArrayList<>();
        Matcher m = FORMAT.matcher(value);
        while (m.find()) {
            if (m.group(3).equals("%")) continue;
            args.add((m.group(1) == null ? "" : m.group(1)) + m.group(3));
        }
        args.sort(null);
        return args;
    }

    private void checkStrings() {
        Map<String, String> base = strings.getOrDefault("", Map.of());
        for (Map.Entry<String, Map<String, String>> locale : strings.entrySet()) {
            String where = locale.getKey().isEmpty() ? "values" : "values-" + locale.getKey();
            for (Map.Entry<String, String> s : locale.getValue().entrySet()) {
                String name = s.getKey();
                String value = s.getValue();
                String trimmed = value.trim();
                boolean quoted = trimmed.length() >= 2 && trimmed.startsWith("\"") && trimmed.endsWith("\"");
                if (!quoted && value.matches("(?s).*(?<!\\\\)'.*")) {
                    errors.add(where + ": string " + name + " has an unescaped apostrophe (write \\')");
                }
                List<String> args = formatArgs(value);
                long plain = args.stream().filter(a -> !a.contains("$")).count();
                if (args.size() > 1 && plain > 0) {
                    errors.add(where + ": string " + name + " has several arguments, not all positional (use %1$s, %2$s)");
                }
                if (!locale.getKey().isEmpty()) {
                    String original = base.get(name);
                    if (original == null) {
                        errors.add(where + ": string " + name + " is not in values/strings.xml");
                    } else if (!formatArgs(original).equals(args)) {
                        errors.add(where + ": string " + name + " has arguments " + args + ", values has " + formatArgs(original));
                    }
                }
            }
            if (!locale.getKey().isEmpty()) {
                for (String name : base.keySet()) {
                    if (!untranslatable.contains(name) && !locale.getValue().containsKey(name)) {
                        errors.add(where + ": string " + name + " is missing (translation)");
                    }
                }
            }
        }
    }

    private void checkReferences(File xml) throws IOException {
        if (!xml.isFile()) {
            errors.add("missing " + xml);
            return;
        }
        Matcher m = REFERENCE.matcher(Files.readString(xml.toPath(), StandardCharsets.UTF_8));
        while (m.find()) {
            if (!m.group(1).isEmpty()) continue;
            String type = m.group(2);
            String name = m.group(3);
            if (!resources.getOrDefault(type, Set.of()).contains(name)) {
                errors.add(xml.getName() + ": @" + type + "/" + name + " does not exist");
            }
        }
    }

    private void write(String pkg, File outDir) throws IOException {
        StringBuilder java = new StringBuilder();
        java.append("// Generated by android/jvm-android/src/build/GenerateR.java for the desktop compile check. Not packaged.\n");
        java.append("package ").append(pkg).append(";\n\n");
        java.append("public final class R {\n    private R() {}\n");
        int typeIndex = 1;
        for (Map.Entry<String, Set<String>> type : resources.entrySet()) {
            java.append("\n    public static final class ").append(type.getKey()).append(" {\n");
            java.append("        private ").append(type.getKey()).append("() {}\n");
            int entry = 0;
            for (String name : type.getValue()) {
                int id = 0x7f000000 | (typeIndex << 16) | entry++;
                java.append("        public static final int ").append(name).append(" = 0x").append(Integer.toHexString(id)).append(";\n");
            }
            java.append("    }\n");
            typeIndex++;
        }
        java.append("}\n");
        File dir = new File(outDir, pkg.replace('.', '/'));
        if (!dir.isDirectory() && !dir.mkdirs()) throw new IOException("cannot create " + dir);
        Files.writeString(new File(dir, "R.java").toPath(), java.toString(), StandardCharsets.UTF_8);
    }

    // ---- A minimal resources.arsc (ResTable) for Robolectric --------------------------------

    private static final int RES_STRING_POOL_TYPE = 0x0001;
    private static final int RES_TABLE_TYPE = 0x0002;
    private static final int RES_TABLE_PACKAGE_TYPE = 0x0200;
    private static final int RES_TABLE_TYPE_TYPE = 0x0201;
    private static final int RES_TABLE_TYPE_SPEC_TYPE = 0x0202;
    private static final int UTF8_FLAG = 1 << 8;
    private static final int CONFIG_SIZE = 64;
    private static final int CONFIG_LOCALE = 0x0004;
    private static final int TYPE_STRING = 0x03;
    private static final int TYPE_INT_BOOLEAN = 0x12;
    private static final int NO_ENTRY = 0xFFFFFFFF;

    /** A little-endian byte buffer. */
    private static final class Bytes {
        private byte[] data = new byte[1024];
        private int size;

        int size() { return size; }

        private void ensure(int more) {
            if (size + more > data.length) data = java.util.Arrays.copyOf(data, Math.max(data.length * 2, size + more));
        }

        Bytes u8(int v) { ensure(1); data[size++] = (byte) v; return this; }
        Bytes u16(int v) { return u8(v).u8(v >>> 8); }
        Bytes u32(int v) { return u16(v).u16(v >>> 16); }
        Bytes bytes(byte[] b) { ensure(b.length); System.arraycopy(b, 0, data, size, b.length); size += b.length; return this; }
        Bytes bytes(Bytes b) { return bytes(b.toArray()); }
        Bytes pad4() { while (size % 4 != 0) u8(0); return this; }
        void putU32(int at, int v) { for (int i = 0; i < 4; i++) data[at + i] = (byte) (v >>> (8 * i)); }
        byte[] toArray() { return java.util.Arrays.copyOf(data, size); }
    }

    /** A UTF-8 string pool chunk. */
    private static Bytes stringPool(List<String> strings) {
        Bytes offsets = new Bytes();
        Bytes chars = new Bytes();
        for (String s : strings) {
            offsets.u32(chars.size());
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            poolLength(chars, s.length());
            poolLength(chars, utf8.length);
            chars.bytes(utf8).u8(0);
        }
        chars.pad4();
        int headerSize = 28;
        Bytes pool = new Bytes();
        pool.u16(RES_STRING_POOL_TYPE).u16(headerSize).u32(headerSize + offsets.size() + chars.size());
        pool.u32(strings.size()).u32(0).u32(UTF8_FLAG).u32(headerSize + offsets.size()).u32(0);
        return pool.bytes(offsets).bytes(chars);
    }

    private static void poolLength(Bytes out, int length) {
        if (length > 0x7F) out.u8(0x80 | (length >>> 8)).u8(length & 0xFF);
        else out.u8(length);
    }

    private static Bytes config(String qualifier) {
        Bytes c = new Bytes();
        c.u32(CONFIG_SIZE).u16(0).u16(0);
        if (qualifier.isEmpty()) {
            c.u16(0).u16(0);
        } else if (qualifier.matches("[a-z]{2}")) {
            c.u8(qualifier.charAt(0)).u8(qualifier.charAt(1)).u16(0);
        } else {
            throw new IllegalArgumentException("only two-letter locale qualifiers are supported: values-" + qualifier);
        }
        while (c.size() < CONFIG_SIZE) c.u8(0);
        return c;
    }

    private void writeApk(String pkg, File manifest, File apk, File androidJar) throws Exception {
        List<String> types = new ArrayList<>(resources.keySet());
        for (String t : types) {
            if (!t.equals("string") && !t.equals("id")) throw new IOException("the test resource table supports strings and ids only, not " + t);
        }
        List<String> keys = new ArrayList<>();
        Map<String, Integer> keyIndex = new TreeMap<>();
        for (String t : types) for (String name : resources.get(t)) {
            keyIndex.computeIfAbsent(name, n -> { keys.add(n); return keys.size() - 1; });
        }
        List<String> values = new ArrayList<>();

        Bytes body = new Bytes();
        for (int ti = 0; ti < types.size(); ti++) {
            String type = types.get(ti);
            List<String> names = new ArrayList<>(resources.get(type));
            int typeId = ti + 1;
            // Type spec: which configurations each entry varies by.
            Bytes spec = new Bytes();
            spec.u16(RES_TABLE_TYPE_SPEC_TYPE).u16(16).u32(16 + 4 * names.size());
            spec.u8(typeId).u8(0).u16(0).u32(names.size());
            for (int i = 0; i < names.size(); i++) spec.u32(type.equals("string") && strings.size() > 1 ? CONFIG_LOCALE : 0);
            body.bytes(spec);
            List<String> qualifiers = type.equals("string") ? new ArrayList<>(strings.keySet()) : List.of("");
            for (String q : qualifiers) {
                Map<String, String> locale = type.equals("string") ? strings.get(q) : Map.of();
                Bytes offsets = new Bytes();
                Bytes entries = new Bytes();
                for (String name : names) {
                    String value = type.equals("string") ? locale.get(name) : "";
                    if (value == null) {
                        offsets.u32(NO_ENTRY);
                        continue;
                    }
                    offsets.u32(entries.size());
                    entries.u16(8).u16(0).u32(keyIndex.get(name));
                    if (type.equals("string")) {
                        values.add(unescape(value));
                        entries.u16(8).u8(0).u8(TYPE_STRING).u32(values.size() - 1);
                    } else {
                        entries.u16(8).u8(0).u8(TYPE_INT_BOOLEAN).u32(0);
                    }
                }
                int headerSize = 20 + CONFIG_SIZE;
                Bytes chunk = new Bytes();
                chunk.u16(RES_TABLE_TYPE_TYPE).u16(headerSize).u32(headerSize + offsets.size() + entries.size());
                chunk.u8(typeId).u8(0).u16(0).u32(names.size()).u32(headerSize + offsets.size());
                chunk.bytes(config(q)).bytes(offsets).bytes(entries);
                body.bytes(chunk);
            }
        }

        Bytes typePool = stringPool(types);
        Bytes keyPool = stringPool(keys);
        int packageHeader = 288;
        Bytes pkgChunk = new Bytes();
        pkgChunk.u16(RES_TABLE_PACKAGE_TYPE).u16(packageHeader).u32(packageHeader + typePool.size() + keyPool.size() + body.size());
        pkgChunk.u32(0x7f);
        for (int i = 0; i < 128; i++) pkgChunk.u16(i < pkg.length() ? pkg.charAt(i) : 0);
        pkgChunk.u32(packageHeader).u32(types.size()).u32(packageHeader + typePool.size()).u32(keys.size()).u32(0);
        pkgChunk.bytes(typePool).bytes(keyPool).bytes(body);

        Bytes valuePool = stringPool(values);
        Bytes table = new Bytes();
        table.u16(RES_TABLE_TYPE).u16(12).u32(12 + valuePool.size() + pkgChunk.size()).u32(1);
        table.bytes(valuePool).bytes(pkgChunk);

        File parent = apk.getAbsoluteFile().getParentFile();
        if (!parent.isDirectory() && !parent.mkdirs()) throw new IOException("cannot create " + parent);
        byte[] axml = new ManifestCompiler(pkg, androidJar).compile(parse(manifest));
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(new java.io.FileOutputStream(apk))) {
            store(zip, "AndroidManifest.xml", axml);
            store(zip, "resources.arsc", table.toArray());
        }
    }

    private static void store(java.util.zip.ZipOutputStream zip, String name, byte[] data) throws IOException {
        java.util.zip.ZipEntry entry = new java.util.zip.ZipEntry(name);
        entry.setMethod(java.util.zip.ZipEntry.STORED);
        entry.setSize(data.length);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(data);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(data);
        zip.closeEntry();
    }

    // ---- The manifest as binary XML (ResXMLTree) -------------------------------------------

    private static final String ANDROID_NS = "http://schemas.android.com/apk/res/android";
    private static final int RES_XML_TYPE = 0x0003;
    private static final int RES_XML_START_NAMESPACE_TYPE = 0x0100;
    private static final int RES_XML_END_NAMESPACE_TYPE = 0x0101;
    private static final int RES_XML_START_ELEMENT_TYPE = 0x0102;
    private static final int RES_XML_END_ELEMENT_TYPE = 0x0103;
    private static final int RES_XML_RESOURCE_MAP_TYPE = 0x0180;
    private static final int TYPE_REFERENCE = 0x01;
    private static final int TYPE_INT_DEC = 0x10;
    private static final int NONE = 0xFFFFFFFF;
    /** Values of the enum/flag attributes the app's manifest uses (attrs_manifest.xml). */
    private static final Map<String, Integer> ENUMS = Map.of(
        "launchMode=standard", 0, "launchMode=singleTop", 1, "launchMode=singleTask", 2, "launchMode=singleInstance", 3,
        "windowSoftInputMode=adjustResize", 0x10, "windowSoftInputMode=adjustPan", 0x20,
        "screenOrientation=locked", 14, "screenOrientation=portrait", 1);
    /** What AGP adds to the merged manifest from build.gradle.kts (minSdk; targetSdk = the SDK the test runs). */
    private static final int MIN_SDK = 24;
    private static final int TARGET_SDK = 34;

    private final class ManifestCompiler {
        private final String pkg;
        private final ClassLoader android;
        private final List<String> pool = new ArrayList<>();
        private final List<Integer> attrIds = new ArrayList<>();
        private final Bytes nodes = new Bytes();

        ManifestCompiler(String pkg, File androidJar) throws IOException {
            this.pkg = pkg;
            this.android = new java.net.URLClassLoader(new java.net.URL[] {androidJar.toURI().toURL()}, null);
        }

        private int frameworkId(String type, String name) throws Exception {
            return android.loadClass("android.R$" + type).getField(name.replace('.', '_')).getInt(null);
        }

        private int appId(String type, String name) throws IOException {
            List<String> names = new ArrayList<>(resources.getOrDefault(type, Set.of()));
            int entry = names.indexOf(name);
            if (entry < 0) throw new IOException("manifest: @" + type + "/" + name + " does not exist");
            int typeIndex = new ArrayList<>(resources.keySet()).indexOf(type) + 1;
            return 0x7f000000 | (typeIndex << 16) | entry;
        }

        /** Attribute names with resource ids come first in the pool, in resource-map order. */
        private int attrName(String name, int id) {
            for (int i = 0; i < attrIds.size(); i++) if (attrIds.get(i) == id && pool.get(i).equals(name)) return i;
            pool.add(attrIds.size(), name);
            attrIds.add(id);
            return attrIds.size() - 1;
        }

        private int string(String s) {
            int i = pool.subList(attrIds.size(), pool.size()).indexOf(s);
            if (i >= 0) return attrIds.size() + i;
            pool.add(s);
            return pool.size() - 1;
        }

        byte[] compile(Document doc) throws Exception {
            Element root = doc.getDocumentElement();
            root.setAttribute("package", pkg);
            Element usesSdk = doc.createElement("uses-sdk");
            usesSdk.setAttributeNS(ANDROID_NS, "android:minSdkVersion", Integer.toString(MIN_SDK));
            usesSdk.setAttributeNS(ANDROID_NS, "android:targetSdkVersion", Integer.toString(TARGET_SDK));
            root.insertBefore(usesSdk, root.getFirstChild());
            // First pass registers attribute names (they must lead the pool); the second writes.
            List<Object[]> plan = new ArrayList<>();
            collect(root, plan);
            int prefix = string("android");
            int uri = string(ANDROID_NS);
            node(RES_XML_START_NAMESPACE_TYPE, new Bytes().u32(prefix).u32(uri));
            for (Object[] step : plan) emit(step);
            node(RES_XML_END_NAMESPACE_TYPE, new Bytes().u32(prefix).u32(uri));

            // Indices were taken while attribute names were still being inserted at the front;
            // collect() resolved every attribute name first, so all indices above are final.
            Bytes map = new Bytes();
            map.u16(RES_XML_RESOURCE_MAP_TYPE).u16(8).u32(8 + 4 * attrIds.size());
            for (int id : attrIds) map.u32(id);
            Bytes strings = stringPool(pool);
            Bytes xml = new Bytes();
            xml.u16(RES_XML_TYPE).u16(8).u32(8 + strings.size() + map.size() + nodes.size());
            return xml.bytes(strings).bytes(map).bytes(nodes).toArray();
        }

        /** Plans the element tree: resolves attribute ids and values, registering names first. */
        private void collect(Element e, List<Object[]> plan) throws Exception {
            List<Object[]> resolved = new ArrayList<>();
            org.w3c.dom.NamedNodeMap map = e.getAttributes();
            for (int i = 0; i < map.getLength(); i++) {
                org.w3c.dom.Attr a = (org.w3c.dom.Attr) map.item(i);
                if ("http://www.w3.org/2000/xmlns/".equals(a.getNamespaceURI())) continue;
                boolean androidAttr = ANDROID_NS.equals(a.getNamespaceURI());
                String local = a.getLocalName() != null ? a.getLocalName() : a.getName();
                int id = androidAttr ? frameworkId("attr", local) : 0;
                if (androidAttr) attrName(local, id);
                resolved.add(new Object[] {androidAttr, local, id, a.getValue()});
            }
            resolved.sort((x, y) -> Integer.compareUnsigned((Integer) x[2], (Integer) y[2]));
            plan.add(new Object[] {"start", e.getTagName(), resolved});
            NodeList children = e.getChildNodes();
            for (int i = 0; i < children.getLength(); i++) {
                if (children.item(i) instanceof Element child) collect(child, plan);
            }
            plan.add(new Object[] {"end", e.getTagName()});
        }

        @SuppressWarnings("unchecked")
        private void emit(Object[] step) throws Exception {
            int name = string((String) step[1]);
            if (step[0].equals("end")) {
                node(RES_XML_END_ELEMENT_TYPE, new Bytes().u32(NONE).u32(name));
                return;
            }
            List<Object[]> attrs = (List<Object[]>) step[2];
            Bytes ext = new Bytes();
            ext.u32(NONE).u32(name).u16(20).u16(20).u16(attrs.size()).u16(0).u16(0).u16(0);
            for (Object[] a : attrs) {
                boolean androidAttr = (Boolean) a[0];
                String local = (String) a[1];
                int id = (Integer) a[2];
                String value = (String) a[3];
                int nameIndex = androidAttr ? attrName(local, id) : string(local);
                ext.u32(androidAttr ? string(ANDROID_NS) : NONE).u32(nameIndex);
                typed(ext, local, value);
            }
            node(RES_XML_START_ELEMENT_TYPE, ext);
        }

        private void typed(Bytes out, String attr, String value) throws Exception {
            Matcher ref = Pattern.compile("@(android:)?([a-z]+)/(.+)").matcher(value);
            Integer enumValue = ENUMS.get(attr + "=" + value);
            if (ref.matches()) {
                int id = ref.group(1) != null ? frameworkId(ref.group(2), ref.group(3)) : appId(ref.group(2), ref.group(3));
                out.u32(NONE).u16(8).u8(0).u8(TYPE_REFERENCE).u32(id);
            } else if (value.equals("true") || value.equals("false")) {
                out.u32(NONE).u16(8).u8(0).u8(TYPE_INT_BOOLEAN).u32(value.equals("true") ? NONE : 0);
            } else if (enumValue != null) {
                out.u32(NONE).u16(8).u8(0).u8(TYPE_INT_DEC).u32(enumValue);
            } else if (value.matches("\\d+") && !attr.equals("name")) {
                out.u32(NONE).u16(8).u8(0).u8(TYPE_INT_DEC).u32(Integer.parseInt(value));
            } else {
                int index = string(value);
                out.u32(index).u16(8).u8(0).u8(TYPE_STRING).u32(index);
            }
        }

        private void node(int type, Bytes ext) {
            nodes.u16(type).u16(16).u32(16 + ext.size()).u32(1).u32(NONE).bytes(ext);
        }
    }

    /** A string resource's text as aapt2 stores it: escapes resolved, outer quotes removed, whitespace collapsed. */
    private static String unescape(String raw) {
        String s = raw.trim();
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) s = s.substring(1, s.length() - 1);
        else s = s.replaceAll("\\s+", " ");
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                switch (n) {
                    case 'n' -> out.append('\n');
                    case 't' -> out.append('\t');
                    default -> out.append(n);
                }
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
