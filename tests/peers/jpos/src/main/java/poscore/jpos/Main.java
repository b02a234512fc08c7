package poscore.jpos;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Properties;

import org.jpos.core.SimpleConfiguration;
import org.jpos.iso.ISOServer;
import org.jpos.iso.packager.GenericPackager;
import org.jpos.util.Logger;
import org.jpos.util.SimpleLogListener;
import org.jpos.util.ThreadPool;

/**
 * {@code java -cp target/classes:$(cat target/classpath.txt) poscore.jpos.Main PORT LEDGER}
 *
 * <p>Starts a jPOS {@link ISOServer} on 127.0.0.1:PORT (0: any free port) with a
 * {@link CupChannel} (NACChannel + TPDU/header), the {@code cup-pos.xml} GenericPackager and the
 * {@link HostListener}, appending its events to LEDGER (JSON lines). Prints
 * {@code jpos-host listening on 127.0.0.1:PORT} once the socket is bound. Runs until killed; with
 * {@code JPOS_PEER_STDIN_WATCHDOG=1} it also exits when its standard input reaches end of file
 * (its parent went away). {@code JPOS_PEER_LOG=1} logs every message to standard error through
 * jPOS's logger.
 */
public final class Main {
    /** The test terminal master key (TMK): 16 bytes of 0x11. */
    static final byte[] TMK = CupCrypto.unhex("11111111111111111111111111111111");
    /** The test MAC key (MAK), double-length. */
    static final byte[] MAK = CupCrypto.unhex("0123456789ABCDEFFEDCBA9876543210");

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: poscore.jpos.Main PORT LEDGER");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        FileOutputStream ledger = new FileOutputStream(args[1], true);

        GenericPackager packager;
        try (InputStream xml = Main.class.getResourceAsStream("/cup-pos.xml")) {
            packager = new GenericPackager(xml);
        }
        CupChannel channel = new CupChannel(packager);
        ISOServer server = new ISOServer(port, channel, new ThreadPool(1, 16, "jpos-host"));
        Properties props = new Properties();
        props.setProperty("bind-address", "127.0.0.1");
        // An unpackable request ends nothing: the frame was read whole, the stream is in step.
        props.setProperty("ignore-iso-exceptions", "true");
        server.setConfiguration(new SimpleConfiguration(props));
        if (System.getenv("JPOS_PEER_LOG") != null) {
            Logger logger = new Logger();
            logger.addListener(new SimpleLogListener(System.err));
            channel.setLogger(logger, "jpos-host.channel");
            server.setLogger(logger, "jpos-host.server");
            packager.setLogger(logger, "jpos-host.packager");
        }
        server.addISORequestListener(new HostListener(TMK, MAK, ledger));
        server.setSocketFactory(new org.jpos.iso.ISOServerSocketFactory() {
            private int bound = -1;

            @Override
            public ServerSocket createServerSocket(int requested) throws IOException {
                // ISOServer re-creates the socket after a pool exhaustion: keep the first port.
                ServerSocket socket = new ServerSocket(bound >= 0 ? bound : requested, 50, InetAddress.getByName("127.0.0.1"));
                if (bound < 0) {
                    bound = socket.getLocalPort();
                    System.out.println("jpos-host listening on 127.0.0.1:" + bound);
                    System.out.flush();
                }
                return socket;
            }
        });
        Thread serverThread = new Thread(server, "jpos-host-server");
        serverThread.start();

        // Under a test harness (JPOS_PEER_STDIN_WATCHDOG=1), the parent holds our stdin: when it
        // goes away, even killed, stop.
        if (System.getenv("JPOS_PEER_STDIN_WATCHDOG") == null) {
            return;
        }
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // ignore input
                }
            } catch (IOException ignored) {
                // parent gone
            }
            System.exit(0);
        }, "jpos-host-stdin");
        watchdog.setDaemon(true);
        watchdog.start();
    }
}
