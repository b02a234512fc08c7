package poscore.jpos;

import java.io.IOException;

import org.jpos.iso.ISOException;
import org.jpos.iso.ISOHeader;
import org.jpos.iso.ISOMsg;
import org.jpos.iso.ISOPackager;
import org.jpos.iso.channel.NACChannel;

/**
 * NACChannel (2-byte binary length, big-endian) with the 11-byte UnionPay TPDU + header.
 *
 * <ul>
 * <li>Receive: reads the 11 header bytes into a {@link CupHeader}, and keeps the raw message
 *     bytes on a {@link CupMsg} so the listener can check the MAC over what was actually sent.</li>
 * <li>Send (this is a server channel: everything it sends is a reply): when the reply carries
 *     a {@link CupHeader} (the request's, cloned by the listener), it goes out with the TPDU
 *     addresses swapped and the processing requirement 0 ({@link CupHeader#swapDirection()}).
 *     NACChannel's own {@code tpdu-swap} only applies to a bare 5-byte header.</li>
 * </ul>
 */
public class CupChannel extends NACChannel {
    public CupChannel(ISOPackager packager) throws IOException {
        // The default header only sets how many header bytes receive() reads.
        super(packager, new byte[CupHeader.LENGTH]);
    }

    @Override
    protected ISOMsg createMsg() {
        return new CupMsg();
    }

    @Override
    protected void unpack(ISOMsg m, byte[] b) throws ISOException {
        if (m instanceof CupMsg) {
            ((CupMsg) m).setRaw(b.clone());
        }
        super.unpack(m, b);
    }

    @Override
    protected ISOHeader getDynamicHeader(byte[] image) {
        return image != null ? new CupHeader(image) : null;
    }

    /**
     * A reply carrying the request's {@link CupHeader} goes out with the TPDU addresses swapped
     * and the processing requirement 0; NACChannel then writes that header as it is (its own
     * {@code tpdu-swap} only touches a 5-byte header). Done here rather than when the header is
     * written so that jPOS's log shows the header as sent.
     */
    @Override
    public void send(ISOMsg m) throws IOException, ISOException {
        ISOHeader h = m.getISOHeader();
        if (h instanceof CupHeader && m.getDirection() != ISOMsg.OUTGOING) {
            CupHeader reply = (CupHeader) h.clone();
            reply.swapDirection();
            m.setHeader(reply);
        }
        super.send(m);
    }
}
